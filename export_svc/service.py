"""Packing a finished processing stage into archives.

Each archive (``results-NNNN.tar.gz``) holds the aggregated results of a run of consecutive tasks
(``results-NNNN.jsonl`` or ``results-NNNN.csv``) and the image outputs persisted for them, under their
flat names in the processing stage's ``images`` part. No two archives of an export share a member name and
no archive holds a folder, because clients (inference-cli's ``export-batch``) unpack every archive of a
part into one folder, several at once. Archives
are written to deterministic keys of the export stage's output batch (part ``archives``), recorded with
``stage.complete`` (which lists them, the export stage's tasks, for the scheduler) in one transaction: a
redelivered event rewrites the same archives and changes nothing else. Everything needed comes in the
processing stage's ``stage.complete``; export reads no job. A job aborted while it exports keeps its state:
the scheduler ignores the export's completion then.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import tarfile
import tempfile
from collections.abc import AsyncIterator
from typing import IO

from export_svc.config import ExportSettings
from export_svc.packing import Archive, pack
from shared.db import Pool, Record
from shared.events import ArchiveTask, ExportCompletedV1, ProcessingCompletedV1, StageCompleteV1
from shared.events.base import source_of
from shared.metrics import ARCHIVES
from shared.outbox import enqueue_many
from shared.staging import NewFile, StagingRepository
from shared.storage import ObjectStore, file_key
from shared.tracing import tracer

log = logging.getLogger(__name__)
TRACER = tracer(__name__)
SOURCE = source_of("export")  # the CloudEvents source of the events this service writes

READ_AHEAD = 16  # objects an export reads at once


class Exporter:
    def __init__(self, settings: ExportSettings, pool: Pool, store: ObjectStore) -> None:
        self.settings = settings
        self.pool = pool
        self.store = store

    async def on_processing_completed(self, event: ProcessingCompletedV1) -> None:
        with TRACER.start_as_current_span(f"export {event.job_id}", attributes={"conveyor.job_id": event.job_id}):
            await self._export(event)

    async def _export(self, event: ProcessingCompletedV1) -> None:
        fmt = event.aggregation_format
        archives = await self._plan(event)
        out_batch = event.export_batch_id
        new_files = []
        for number, archive in enumerate(archives):
            name = f"results-{number:04d}.tar.gz"
            key = file_key(event.workspace_id, out_batch, "archives", name)
            size = await self._write_archive(archive, fmt, key, number)
            new_files.append(NewFile(part_name="archives", file_name=name, shard_id=None,
                                     content_type="application/gzip", size_bytes=size, object_key=key,
                                     nested_content_type="metadata"))
        async with self.pool.acquire() as conn, conn.transaction():
            staging = StagingRepository(conn)
            await staging.upsert_part(event.workspace_id, out_batch, "archives", "file-part", "archives", "metadata",
                                      "results and image outputs, as tar.gz archives")
            await staging.insert_files(event.workspace_id, out_batch, new_files)
            completed = ExportCompletedV1(
                workspace_id=event.workspace_id, job_id=event.job_id, export_batch_id=out_batch,
                archives=[ArchiveTask(task_id=f"archive-{number:04d}",
                                      files_count=len(archive.results) + len(archive.images))
                          for number, archive in enumerate(archives)],
                correlation_id=event.job_id)
            await enqueue_many(conn, self.settings.kafka.topic_prefix, [completed, StageCompleteV1.twin_of(completed)],
                               source=SOURCE)
        ARCHIVES.inc(len(archives))
        log.info("exported job %s into %d archives", event.job_id, len(archives))

    async def _plan(self, event: ProcessingCompletedV1) -> list[Archive]:
        async def all_files(part: str) -> list[Record]:
            rows: list[Record] = []
            after = 0
            async with self.pool.acquire() as conn:
                repo = StagingRepository(conn)
                while page := await repo.list_files(event.workspace_id, event.results_batch_id, part, 5000, after):
                    rows += page
                    after = page[-1]["seq"]
            return rows

        return pack(await all_files("results"), await all_files("images"), self.settings.max_archive_bytes)

    async def _write_archive(self, archive: Archive, fmt: str, key: str, number: int) -> int:
        with tempfile.TemporaryFile() as spool:
            with tarfile.open(fileobj=spool, mode="w:gz", compresslevel=6) as tar:
                aggregated = await self._aggregate(archive.results, fmt)
                _add(tar, f"results-{number:04d}.{fmt}", aggregated)
                for start in range(0, len(archive.images), READ_AHEAD):
                    window = archive.images[start:start + READ_AHEAD]
                    for image, data in zip(window, await self._read(window), strict=True):
                        _add(tar, image["file_name"], data)
            spool.seek(0)
            return await self.store.put_stream(key, _chunks(spool), content_type="application/gzip")

    async def _read(self, files: list[Record]) -> list[bytes]:
        """The objects of ``files``, in their order, read at once (one request after another made a job's
        export wait on as many round trips as it has tasks)."""
        gate = asyncio.Semaphore(READ_AHEAD)

        async def one(f: Record) -> bytes:
            async with gate:
                return await self.store.fetch(f["object_key"])

        return list(await asyncio.gather(*(one(f) for f in files)))

    async def _aggregate(self, results: list[Record], fmt: str) -> bytes:
        parts = await self._read(results)
        if fmt != "csv":
            return b"".join(parts)
        rows: list[dict[str, str]] = []
        columns: list[str] = []
        for part in parts:
            for row in csv.DictReader(io.StringIO(part.decode())):
                rows.append(row)
                columns += [c for c in row if c not in columns]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


async def _chunks(f: IO[bytes], size: int = 8 * 1024 * 1024) -> AsyncIterator[bytes]:
    while data := f.read(size):
        yield data


__all__ = ["Exporter"]
