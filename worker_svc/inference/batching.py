"""Dynamic batching of model calls over inference lanes: concurrent callers share the model's sessions.

Workflow runs stay one image per call (any workflow shape works, crops included). A model served through a
``DynamicBatcher`` has one or more *lanes* — a thread and its own onnxruntime session each — that take
whatever tensors are waiting (up to ``max_batch`` images, waiting at most ``max_wait_s`` after the first
for more), run them in one session call and hand every caller its rows. Pre- and post-processing stay in
the callers' threads, so they overlap running inference (OpenCV and numpy release the GIL).

On a GPU one lane with batches of 8 or more is what makes it fast. On CPU cores, one single-threaded session
per core with no batching beats one session spread over every core: no lane waits for a straggling thread
when decodes and I/O share the cores (measured by ``bench.throughput``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

Outputs = tuple[np.ndarray, ...]


@dataclass
class _Request:
    inputs: np.ndarray
    result: Future[Outputs] = field(default_factory=Future)


class DynamicBatcher:
    def __init__(self, lanes: list[Callable[[np.ndarray], Outputs]], *, max_batch: int, max_wait_s: float = 0.005,
                 name: str = "model") -> None:
        if max_batch < 1 or not lanes:
            raise ValueError("a batcher needs at least one lane and max_batch >= 1")
        self._run = lanes[0]
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self.batches = 0  # counters, for tests and metrics
        self.items = 0
        self._threads = [threading.Thread(target=self._loop, args=(run,), name=f"{name}-lane-{i}", daemon=True)
                         for i, run in enumerate(lanes)]
        for t in self._threads:
            t.start()

    def __call__(self, inputs: np.ndarray) -> Outputs:
        """Runs ``inputs`` ([n, ...], n >= 1) through the model, batched with other callers'; blocks."""
        request = _Request(inputs)
        with self._lock:
            queued = not self._closed  # everything queued before close() is still served
            if queued:
                self._queue.put(request)
        # an unloaded model (evicted from the cache) still serves the runs that hold it, unbatched
        return request.result.result() if queued else self._run(inputs)

    def map(self, inputs: np.ndarray) -> Outputs:
        """Runs ``inputs`` ([n, ...]) as chunks of at most ``max_batch``, all queued at once so that every lane
        takes some (the slices or crops of one image in parallel); the outputs in the inputs' order."""
        if len(inputs) <= self.max_batch:
            return self(inputs)
        requests = [_Request(inputs[i:i + self.max_batch]) for i in range(0, len(inputs), self.max_batch)]
        with self._lock:
            queued = not self._closed
            if queued:
                for request in requests:
                    self._queue.put(request)
        if not queued:
            return self._run(inputs)
        parts = [request.result.result() for request in requests]
        return tuple(np.concatenate([part[k] for part in parts]) for k in range(len(parts[0])))

    @property
    def lanes(self) -> int:
        return len(self._threads)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)

    def _loop(self, run: Callable[[np.ndarray], Outputs]) -> None:
        pending: _Request | None = None
        while True:
            first = pending or self._queue.get()
            pending = None
            if first is None:
                return
            group, size = [first], len(first.inputs)
            deadline = time.monotonic() + self.max_wait_s
            while size < self.max_batch:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:  # closed: finish this batch, then stop
                    self._execute(run, group)
                    return
                if size + len(nxt.inputs) > self.max_batch:
                    pending = nxt  # too big to join: it opens the next batch
                    break
                group.append(nxt)
                size += len(nxt.inputs)
            self._execute(run, group)

    def _execute(self, run: Callable[[np.ndarray], Outputs], group: list[_Request]) -> None:
        try:
            outputs = run(group[0].inputs if len(group) == 1 else np.concatenate([r.inputs for r in group]))
        except BaseException as exc:  # every waiting caller gets the error, the loop goes on
            for r in group:
                r.result.set_exception(exc)
            return
        with self._lock:
            self.batches += 1
            self.items += sum(len(r.inputs) for r in group)
        start = 0
        for r in group:
            end = start + len(r.inputs)
            r.result.set_result(tuple(o[start:end] for o in outputs))
            start = end
