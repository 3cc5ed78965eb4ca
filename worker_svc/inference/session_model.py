"""The part every model shares: its sessions (one per lane) on a runtime, batching across callers, and a
switch to another runtime once the accuracy gate has chosen one."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from worker_svc.inference.batching import DynamicBatcher
from worker_svc.inference.runtimes import Execution, Session, SessionOptions, opener, reference


def accepts_batches(session: Session) -> bool:
    """Whether the model's batch dimension is dynamic (some exports fix it at 1)."""
    first = session.get_inputs()[0].shape[0]
    return not isinstance(first, int) or first > 1


def default_device(prefer_gpu: bool) -> str:
    return "gpu" if prefer_gpu and "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"


class SessionModel:
    """A model whose sessions can be served in lanes: subclasses open theirs with ``_open`` and implement
    ``infer(batch, session=None)`` (raw outputs) and ``gate_outputs``/``agreement`` (what the accuracy gate
    compares)."""

    session: Session
    sessions: list[Session]  # every lane's, this one first
    model_path: Path
    execution: Execution
    options: SessionOptions
    input_size: int
    batcher: DynamicBatcher | None = None
    _batching: tuple[int, float, int] | None = None  # (max batch, max wait, lanes) as last enabled

    def _open(self, model_path: Path, threads: int | None, prefer_gpu: bool, spin: bool,
              execution: Execution | None = None, cache_dir: Path | None = None, sha256: str = "") -> None:
        self.model_path = model_path
        self.execution = execution or reference(default_device(prefer_gpu))
        self.options = SessionOptions(threads=threads, lanes=1, spin=spin, cache_dir=cache_dir, sha256=sha256)
        self.session = opener(model_path, self.execution, self.options)()
        self.sessions = [self.session]

    def open_session(self, execution: Execution) -> Session:
        """One session of this model on ``execution`` (the gate tries candidates on one)."""
        return opener(self.model_path, execution, dataclasses.replace(self.options, lanes=1))()

    def warm_up(self) -> None:
        """One blank image through every lane's session: a session's first run allocates its buffers (and on
        a GPU picks its kernels), which should not fall on the first image of a job."""
        blank = np.zeros((1, 3, self.input_size, self.input_size), np.float32)
        for session in self.sessions:
            self.infer(blank, session=session)

    def infer(self, batch: np.ndarray, session: Session | None = None) -> tuple[np.ndarray, ...]:
        raise NotImplementedError

    def gate_outputs(self, images_bgr: list[np.ndarray], session: Session) -> list[Any]:
        """What the accuracy gate compares, per image, as run on ``session``."""
        raise NotImplementedError

    def agreement(self, reference: list[Any], candidate: list[Any]) -> tuple[float, float, int]:
        """(share of the reference's findings the candidate matches, the reverse, reference findings)."""
        raise NotImplementedError

    def enable_batching(self, max_batch: int, max_wait_s: float = 0.005, lanes: int = 1) -> None:
        """Concurrent calls share session runs of up to ``max_batch`` images on ``lanes`` sessions (this one
        and lanes - 1 more opened the same way); nothing changes where there is nothing to gain (one lane,
        batches of one) beyond what the model takes (a batch dimension fixed at 1)."""
        self._batching = (max_batch, max_wait_s, lanes)
        if not accepts_batches(self.session):
            max_batch = 1
        if lanes <= 1 and max_batch <= 1:
            return
        self.options = dataclasses.replace(self.options, lanes=lanes)
        open_one = opener(self.model_path, self.execution, self.options)
        if self.execution.runtime != "onnxruntime":  # its lanes are requests of one model compiled for them
            self.session = open_one()
        self.sessions = [self.session] + [open_one() for _ in range(lanes - 1)]
        self.batcher = DynamicBatcher([functools.partial(self.infer, session=s) for s in self.sessions],
                                      max_batch=max_batch, max_wait_s=max_wait_s, name=type(self).__name__)

    def switch(self, execution: Execution) -> None:
        """Run on ``execution`` from now on, with the lanes and batching as enabled; a call already waiting
        on the old batcher still gets its answer from it."""
        if execution == self.execution:
            return
        old = self.batcher
        self.execution = execution
        self.options = dataclasses.replace(self.options, lanes=1)
        self.session = opener(self.model_path, execution, self.options)()
        self.sessions, self.batcher = [self.session], None
        if self._batching is not None:
            self.enable_batching(*self._batching)
        if old is not None:
            old.close()

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        batcher = self.batcher
        return batcher.map(batch) if batcher else self.infer(batch)

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
