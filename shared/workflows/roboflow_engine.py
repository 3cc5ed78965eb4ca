"""Roboflow's Workflows Execution Engine (``roboflow-workflows``), run in an interpreter of its own.

The engine's dependency pins clash with the services' (pydantic, numpy, OpenCV, torch), so it lives in a virtual
environment of its own (``deploy/local/inference-venv.sh``) and Conveyor talks to it over a pipe. Two programs
speak this protocol, each started once and reused for every request: ``shared.workflows.engine_protocol``, which
only compiles definitions (the scheduler's check when a job or workflow is saved), and the worker's host
(``worker_svc.workflows.engine_host``), which also runs them.

Protocol on stdin/stdout, frames of a 4-byte big-endian length and a payload, every answer a JSON object:
1. service -> host: ``{"threads", "allowed_hosts"}``; host -> service: ``{"ok": true, "engine": "<version>"}``.
2. then any number of requests, each answered ``{"error": "..."}`` on failure:
   - the check program: ``{"op": "check", "workflow"}`` -> ``{"ok": true}``: the definition compiles;
   - the worker's host: ``{"op": "load", "key", "workflow", "models": {id: {path, task, layout, class_names,
     input_size}}}`` -> ``{"ok": true}``: compiled and kept under ``key`` (a few kept, least recently used
     dropped), and
   - ``{"op": "run", "key", "parameters", "shape", "parent_id", "video_metadata"}`` then a frame of raw BGR uint8
     pixels -> ``{"outputs": {...}}`` (the engine's own serialisation), or ``{"missing": true}`` when ``key`` is
     not loaded (load it again, then run).

Every connection a block opens (``webhook_sink``, e-mail, LLM APIs, ...) passes the same SSRF guard as Conveyor's
own webhooks, redirects included (``shared.workflows.engine_setup.guard_outbound``).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from shared.workflows.engine_protocol import read_frame, write_frame
from shared.workflows.errors import WorkflowInvalid

# the programs import Conveyor's code from the checkout or image they belong to
CODE_ROOT = Path(__file__).resolve().parents[2]
CHECK_PROGRAM = "shared.workflows.engine_protocol"


class EngineUnavailable(RuntimeError):
    """The engine's environment is missing or its host process died."""


class EngineProcess:
    """One long-lived host process (``program``: the module it runs); requests are serialised."""

    def __init__(self, python: Path, program: str, *, threads: int | None = None,
                 allowed_hosts: list[str] | None = None) -> None:
        if not Path(python).exists():
            raise EngineUnavailable(
                f"the Workflows Execution Engine backend needs its environment at {python} "
                "(create it with: bash deploy/local/inference-venv.sh)")
        env = {**os.environ, "PYTHONPATH": str(CODE_ROOT)}
        self._proc = subprocess.Popen([str(python), "-m", program], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, cwd=str(CODE_ROOT))
        self._lock = threading.Lock()
        reply = self.exchange(json.dumps({"threads": threads, "allowed_hosts": allowed_hosts or []}).encode())
        if "error" in reply:
            self.close()
            raise EngineUnavailable(f"the Workflows Execution Engine did not start: {reply['error']}")
        self.engine_version: str = reply.get("engine", "")

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def exchange(self, *frames: bytes) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                for frame in frames:
                    write_frame(self._proc.stdin, frame)
                reply = read_frame(self._proc.stdout)
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None:
                raise EngineUnavailable(f"the Workflows Execution Engine process exited ({self._proc.poll()})")
            result: dict[str, Any] = json.loads(reply)
            return result

    def compile(self, request: dict[str, Any]) -> None:
        """A request that compiles a workflow (``check``, ``load``); raises WorkflowInvalid with the engine's
        reason."""
        reply = self.exchange(json.dumps(request).encode())
        if "error" in reply:
            raise WorkflowInvalid(f"the Workflows Execution Engine refuses this workflow: {reply['error']}")


class EngineChecker:
    """The save-time check: one engine process, started on first use and started again if it died."""

    def __init__(self, python: Path) -> None:
        self.python = python
        self._process: EngineProcess | None = None
        self._lock = threading.Lock()

    def check(self, workflow: dict[str, Any]) -> None:
        with self._lock:
            if self._process is None or not self._process.alive:
                self._process = EngineProcess(self.python, CHECK_PROGRAM)
            process = self._process
        try:
            process.compile({"op": "check", "workflow": workflow})
        except EngineUnavailable:
            # a definition that kills the process is refused; the next check starts a fresh one
            raise WorkflowInvalid("the Workflows Execution Engine stopped while compiling this workflow") from None

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.close()
                self._process = None


_checkers: dict[Path, EngineChecker] = {}
_checkers_lock = threading.Lock()


def check_with_engine(python: Path, workflow: dict[str, Any]) -> None:
    """Compile the workflow in the real engine (every block's manifest); raises WorkflowInvalid. Blocking: the
    process's one checker for ``python`` answers, so only the first check pays for the engine's start."""
    with _checkers_lock:
        if python not in _checkers:
            _checkers[python] = EngineChecker(python)
        checker = _checkers[python]
    checker.check(workflow)


@atexit.register
def _close_checkers() -> None:
    for checker in _checkers.values():
        checker.close()
