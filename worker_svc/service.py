"""Running one task: the workflow over each of its files, results written durably, then ``task.done``.

Everything a task needs comes in its ``task.ready@v2`` event (the resolved processing specification, the input
range, the models); the worker reads only the shared batch store (the task's files) and writes only output
batches and events. Downloads and decodes run ahead of inference (``prefetch`` files), in threads, so the model
is never idle waiting for I/O. ``task.started`` and ``task.progress`` (every few seconds: the heartbeat) go to
the scheduler, which owns task state; an abort reaches the worker as a job lifecycle event and stops the task
within about a second. Results go to deterministic object keys and ``ON CONFLICT DO NOTHING`` rows, and
``task.done`` is written to the outbox in the same transaction, so a redelivered task overwrites instead of
duplicating, and the offset is committed only once all of this is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import posixpath
import tempfile
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from botocore.exceptions import ClientError

from shared.db import Pool, Record
from shared.events import (
    EventBase,
    FailedFile,
    TaskDoneV1,
    TaskProgressV1,
    TaskReadyV1,
    TaskReadyV2,
    TaskStartedV1,
    TaskStatus,
)
from shared.events.base import source_of
from shared.logs import bound
from shared.metrics import FILE_LATENCY, FILES_PROCESSED, TASK_DURATION, TASKS
from shared.outbox import enqueue
from shared.staging import NewFile, StagingRepository
from shared.storage import ObjectMissing, ObjectStore, file_key
from shared.tracing import tracer
from shared.workflows.errors import WorkflowRunFailed
from worker_svc.backends import Backends, PreparedWorkflow
from worker_svc.config import WorkerSettings
from worker_svc.decoding import Decoded, decode_image
from worker_svc.errors import FileFailed, TaskAborted
from worker_svc.results import encode
from worker_svc.spans import SpanTooShort, StagedReader
from worker_svc.stops import StoppedJobs
from worker_svc.task_output import TaskOutput, image_parameters, record_of
from worker_svc.video import Frame, sampled_frames
from worker_svc.workflows.video_state import VideoFrame, VideoState

log = logging.getLogger(__name__)
TRACER = tracer(__name__)
SOURCE = source_of("worker")  # the CloudEvents source of the events this service writes


Publish = Callable[[EventBase], Awaitable[None]]
Loaded = tuple[str, Decoded | FileFailed]  # a task's file as read: its name, the image or why it failed
Held = TypeVar("Held")
# what the accuracy gate may hold back of a task at most: 32 frames of a 1080p video (6 MB each) fit, a
# 4K video's are fewer
GATE_HELD_BYTES = 256 * 1024 * 1024


async def gated(source: AsyncIterator[Held], pixels: Callable[[Held], np.ndarray | None],
                gate: Callable[[list[np.ndarray]], Awaitable[None]], *, items: int,
                max_bytes: int) -> AsyncIterator[Held]:
    """``source``'s items (a task's images, a video's frames) in order, the first ``items`` of them (fewer where
    their ``pixels`` would take more than ``max_bytes``) held back until ``gate`` has run on those pixels."""
    head: list[Held] = []
    arrays: list[np.ndarray] = []
    async for item in source:
        head.append(item)
        if (array := pixels(item)) is not None:
            arrays.append(array)
        if len(head) >= items or sum(a.nbytes for a in arrays) >= max_bytes:
            break
    await gate(arrays)
    for item in head:
        yield item
    async for item in source:
        yield item


def _pixels(loaded: Loaded) -> np.ndarray | None:
    return loaded[1].array if isinstance(loaded[1], Decoded) else None


def _frame_pixels(frame: Frame) -> np.ndarray:
    return frame.pixels


class TaskRunner:
    def __init__(self, settings: WorkerSettings, pool: Pool, store: ObjectStore,
                 backends: Backends, *, publish: Publish, stops: StoppedJobs,
                 worker_id: str) -> None:
        self.settings = settings
        self.pool = pool
        self.store = store
        self.backends = backends
        # task.started and task.progress go straight to Kafka: a lost one is repaired by the next
        self.publish = publish
        self.stops = stops
        self.worker_id = worker_id
        # workflow runs, apart from downloads and decodes (asyncio's default pool)
        # a job's workersPerMachine (at most 64) may ask for more runs at once than the worker's default
        self._executor = ThreadPoolExecutor(max(settings.in_flight, 64) * max(1, settings.concurrency),
                                            thread_name_prefix="workflow")

    async def handle(self, event: TaskReadyV1 | TaskReadyV2) -> None:
        if isinstance(event, TaskReadyV1):
            # dispatched by a scheduler older than task.ready@v2: this worker cannot run it from the event
            # alone; the scheduler's watchdog dispatches the task again
            log.warning("task %s/%s arrived as task.ready@v1; left for the scheduler to dispatch again",
                        event.job_id, event.task_id)
            return
        with bound(workspace_id=event.workspace_id, job_id=event.job_id, task_id=event.task_id,
                   attempt=event.attempt), TRACER.start_as_current_span(
                f"task {event.task_id}", attributes={"conveyor.job_id": event.job_id, "conveyor.task_id": event.task_id,
                                                      "conveyor.attempt": event.attempt}):
            await self._handle(event)

    async def _handle(self, event: TaskReadyV2) -> None:
        stopped = self.stops.stopped(event.workspace_id, event.job_id, event.occurred_at)
        if stopped:
            await self._report(event, TaskStatus.ABORTED, TaskOutput(), 0.0, f"job is {stopped}")
            return
        with contextlib.suppress(Exception):  # the first task.progress marks it running as well
            await self.publish(TaskStartedV1(
                workspace_id=event.workspace_id, job_id=event.job_id, stage_id=event.stage_id,
                task_id=event.task_id, attempt=event.attempt, machine_type=self.settings.machine_type,
                worker_id=self.worker_id, correlation_id=event.job_id))
        started = time.monotonic()
        aborted = asyncio.Event()
        progress = _Progress(self, event)
        watcher = asyncio.create_task(self._watch(event, progress, aborted))
        try:
            output = await self._run(event, progress, aborted)
        except TaskAborted:
            await self._report(event, TaskStatus.ABORTED, TaskOutput(), time.monotonic() - started, "job stopped")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("task %s/%s failed", event.job_id, event.task_id)
            await self._report(event, TaskStatus.FAILED, TaskOutput(), time.monotonic() - started, f"{exc!r}"[:1000])
            return
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self._report(event, TaskStatus.SUCCEEDED, output, time.monotonic() - started, None, store=True)

    async def _watch(self, event: TaskReadyV2, progress: _Progress, aborted: asyncio.Event) -> None:
        """Abort within a second of hearing that the job stopped; send the progress at least every heartbeat
        interval, so the scheduler knows the task is alive."""
        while True:
            await asyncio.sleep(self.settings.abort_check_interval_s)
            if self.stops.stopped(event.workspace_id, event.job_id, event.occurred_at):
                aborted.set()
                return
            if time.monotonic() - progress.sent_at >= self.settings.heartbeat_interval_s:
                await progress.send()

    async def _run(self, event: TaskReadyV2, progress: _Progress, aborted: asyncio.Event) -> TaskOutput:
        models = {m.model_id: m for m in event.models}
        workflow = await self.backends.prepare(event.workflow_backend, event.workflow, event.parameters, models)
        persist = set(event.persisted_outputs)
        async with self.pool.acquire() as conn:
            files = await StagingRepository(conn).task_files(event.workspace_id, event.input_batch_id,
                                                             event.input_part_name, event.seq_from, event.seq_to,
                                                             event.metadata_part)
        progress.total = max(len(files), 1)
        output = TaskOutput(inference=workflow.inference)
        if event.kind == "videos":
            for f in files:
                await self._video(workflow, f, event.max_video_fps, persist, output, aborted, event.video_seconds)
                await progress.step()
        else:
            in_flight = event.in_flight or self.settings.in_flight
            mapping = event.metadata_mapping if event.metadata_part else {}
            await self._images(workflow, files, persist, output, progress, aborted, in_flight, mapping)
        if aborted.is_set():
            raise TaskAborted
        return output

    async def _images(self, workflow: PreparedWorkflow, files: list[Record], persist: set[str],
                      output: TaskOutput, progress: _Progress, aborted: asyncio.Event, in_flight: int,
                      mapping: dict[str, str]) -> None:
        """Up to ``in_flight`` images in the workflow at once (the job's workersPerMachine, else the worker's
        default; their model calls share the model's lanes and batches); results are recorded in file order."""
        running: deque[tuple[str, asyncio.Task[dict[str, Any]]]] = deque()

        async def record_oldest() -> None:
            name, run = running.popleft()
            try:
                result = await run
            except WorkflowRunFailed as exc:
                output.failed.append((name, f"the workflow failed on this image: {exc}"))
            else:
                output.records.append({"image": name, **record_of(result, name, persist, output)})
                output.processed += 1
            await progress.step()

        output.in_flight = in_flight
        metadata = {f["file_name"]: f["metadata"] for f in files} if mapping else {}
        try:
            async for name, image in self._gated(workflow, self._prefetched(files, workflow.reduce_to), _pixels):
                if aborted.is_set():
                    raise TaskAborted
                try:
                    own = image_parameters(mapping, metadata.get(name)) if mapping else None
                except FileFailed as exc:
                    image = exc
                if isinstance(image, FileFailed):
                    output.failed.append((name, image.reason))
                    await progress.step()
                    continue
                running.append((name, asyncio.create_task(self._timed(workflow, image, name, own))))
                if len(running) >= in_flight:
                    await record_oldest()
            while running:
                await record_oldest()
        finally:
            for _, run in running:
                run.cancel()

    def _gated(self, workflow: PreparedWorkflow, source: AsyncIterator[Held],
               pixels: Callable[[Held], np.ndarray | None]) -> AsyncIterator[Held]:
        """``source`` with its head held back for the accuracy gate while one of the workflow's models awaits it."""
        models = list(workflow.models.values())
        if not self.backends.models.awaiting_gate(models):
            return source
        return gated(source, pixels, functools.partial(self.backends.models.gate, models),
                     items=self.settings.gate_images, max_bytes=GATE_HELD_BYTES)

    async def _timed(self, workflow: PreparedWorkflow, image: Decoded, name: str,
                     own: dict[str, Any] | None = None, frame: VideoFrame | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, workflow.run, image, name, own,
                                                                    frame)
        finally:
            FILE_LATENCY.labels(self.settings.machine_type).observe(time.perf_counter() - started)

    async def _prefetched(self, files: list[Record], reduce_to: int | None = None) -> AsyncGenerator[Loaded, None]:
        """Files downloaded and decoded ``prefetch`` ahead, in order (smaller where ``reduce_to`` allows)."""
        reader = StagedReader(self.store, files)

        async def load(index: int) -> Loaded:
            name = files[index]["file_name"]
            try:
                data = await reader.read(index)
                return name, await asyncio.to_thread(decode_image, data, reduce_to)
            except ObjectMissing:
                return name, FileFailed("the staged file no longer exists (expired or deleted)")
            except SpanTooShort as exc:
                return name, FileFailed(f"the staged file is incomplete: its archive is shorter than indexed ({exc})")
            except FileFailed as exc:
                return name, exc

        pending = iter(range(len(files)))
        # islice, not zip(pending, range(n)): zip would pull (and drop) one file more than the window holds
        window: deque[asyncio.Task[Loaded]] = deque(
            asyncio.create_task(load(i)) for i in itertools.islice(pending, self.settings.prefetch))
        try:
            while window:
                item = await window.popleft()
                following = next(pending, None)
                if following is not None:
                    window.append(asyncio.create_task(load(following)))
                yield item
        finally:
            for t in window:
                t.cancel()
            reader.close()

    async def _video(self, workflow: PreparedWorkflow, f: Record, max_fps: float | None, persist: set[str],
                     output: TaskOutput, aborted: asyncio.Event, seconds: float | None = None) -> None:
        """Every sampled frame of the video, or those of its first ``seconds`` (an estimate's sample)."""
        name = f["file_name"]
        with tempfile.NamedTemporaryFile(suffix=posixpath.splitext(name)[1] or ".mp4") as tmp:
            try:
                async for chunk in self.store.iter_object(f["object_key"]):
                    tmp.write(chunk)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                    raise
                output.failed.append((name, "the staged file no longer exists (expired or deleted)"))
                return
            tmp.flush()
            frames = 0
            video: VideoState | None = None  # fresh per video: trackers never carry objects between videos
            cut_at: float | None = None
            length = 0.0
            # closed when the loop ends, cut short too: the capture is released at once
            async with contextlib.aclosing(sampled_frames(tmp.name, max_fps)) as frames_of_video:
                async for sampled in self._gated(workflow, frames_of_video, _frame_pixels):
                    number, timestamp = sampled.number, sampled.timestamp
                    if aborted.is_set():
                        raise TaskAborted
                    if video is None:
                        video = VideoState(name, sampled.fps, sampled.processed_fps)
                    length = sampled.duration or timestamp + 1 / sampled.fps  # containers may not say
                    if seconds is not None and timestamp >= seconds:
                        cut_at = seconds
                        break
                    try:
                        result = await self._timed(workflow, Decoded(sampled.pixels), f"{name}#{number}",
                                                   frame=video.frame(number, timestamp))
                    except WorkflowRunFailed as exc:
                        output.failed.append((f"{name}#{number}", f"the workflow failed on this frame: {exc}"))
                        continue
                    output.records.append({"video": name, "frame_number": number, "frame_timestamp": timestamp,
                                           **record_of(result, f"{name}__{number:06d}", persist, output)})
                    frames += 1
            if video is not None:
                output.media_seconds += length
                output.media_seconds_run += min(cut_at, length) if cut_at is not None else length
        if frames == 0:
            output.failed.append((name, "no frame could be decoded"))
        else:
            output.processed += 1

    async def _report(self, event: TaskReadyV2, status: TaskStatus, output: TaskOutput, runtime: float,
                      error: str | None, *, store: bool = False) -> None:
        new_files = await self._store_outputs(event, output) if store else []
        done = TaskDoneV1(workspace_id=event.workspace_id, job_id=event.job_id, stage_id=event.stage_id,
                          task_id=event.task_id, attempt=event.attempt, status=status,
                          files_processed=output.processed, files_failed=len(output.failed), runtime_seconds=runtime,
                          machine_type=self.settings.machine_type, error=error, correlation_id=event.job_id,
                          failed_file_reasons=[FailedFile(file_name=n, reason=r) for n, r in output.failed[:100]],
                          inference=output.inference(), worker_id=self.worker_id,
                          output_bytes=sum(f.size_bytes for f in new_files), media_seconds=output.media_seconds,
                          media_seconds_run=output.media_seconds_run)
        async with self.pool.acquire() as conn, conn.transaction():
            if new_files:
                staging = StagingRepository(conn)
                for part, content in {(f.part_name, f.nested_content_type or "metadata") for f in new_files}:
                    await staging.upsert_part(event.workspace_id, event.output_batch_id, part, "file-part", content,
                                              None, "workflow results" if part == "results" else "image outputs")
                await staging.insert_files(event.workspace_id, event.output_batch_id, new_files)
            await enqueue(conn, self.settings.kafka.topic_prefix, done, source=SOURCE)
        machine = self.settings.machine_type
        TASKS.labels(machine, status).inc()
        TASK_DURATION.labels(machine).observe(runtime)
        FILES_PROCESSED.labels(machine, "processed").inc(output.processed)
        FILES_PROCESSED.labels(machine, "failed").inc(len(output.failed))
        log.info("task %s: %d processed, %d failed in %.2f s, %d in flight", status, output.processed,
                 len(output.failed), runtime, output.in_flight)

    async def _store_outputs(self, event: TaskReadyV2, output: TaskOutput) -> list[NewFile]:
        """Write results (and persisted images) to deterministic keys: a redelivery overwrites them."""
        fmt = event.aggregation_format
        body, content_type = encode(output.records, fmt)
        batch_id = event.output_batch_id
        name = f"{event.task_id}.{'csv' if fmt == 'csv' else 'jsonl'}"
        key = file_key(event.workspace_id, batch_id, "results", name)
        await self.store.put_bytes(key, body, content_type=content_type)
        files = [NewFile(part_name="results", file_name=name, shard_id=event.task_id, content_type=content_type,
                         size_bytes=len(body), object_key=key, nested_content_type="metadata")]
        semaphore = asyncio.Semaphore(8)

        async def put(image_name: str, data: bytes) -> NewFile:
            image_key = file_key(event.workspace_id, batch_id, "images", image_name)
            async with semaphore:
                await self.store.put_small(image_key, data, content_type="image/jpeg")
            return NewFile(part_name="images", file_name=image_name, shard_id=event.task_id,
                           content_type="image/jpeg", size_bytes=len(data), object_key=image_key,
                           nested_content_type="images")

        files += await asyncio.gather(*(put(n, d) for n, d in output.images))
        return files


class _Progress:
    """The share of the task's files done, sent to the scheduler at most every ``progress_interval_s`` (and by
    the watcher at least every ``heartbeat_interval_s``)."""

    def __init__(self, runner: TaskRunner, event: TaskReadyV2) -> None:
        self.runner, self.event = runner, event
        self.total = 1
        self.done = 0
        self.sent_at = time.monotonic()

    async def step(self) -> None:
        self.done += 1
        if time.monotonic() - self.sent_at >= self.runner.settings.progress_interval_s:
            await self.send()

    async def send(self) -> None:
        self.sent_at = time.monotonic()
        e = self.event
        with contextlib.suppress(Exception):  # the next one repairs a lost one; a task never fails for it
            await self.runner.publish(TaskProgressV1(
                workspace_id=e.workspace_id, job_id=e.job_id, stage_id=e.stage_id, task_id=e.task_id,
                attempt=e.attempt, progress=round(min(self.done / self.total, 1.0), 4),
                machine_type=self.runner.settings.machine_type, worker_id=self.runner.worker_id,
                correlation_id=e.job_id))
