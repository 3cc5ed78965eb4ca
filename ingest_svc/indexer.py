"""Background indexing of ingest shards (uploaded tars and reference lists).

Indexers in any number of ingest processes claim shards with ``FOR UPDATE SKIP LOCKED`` and a lease that
they renew while working; a crashed indexer's shard is taken over when its lease runs out. All S3 writes
happen first (packs under keys unique to the attempt, so two attempts never overwrite each other's; a video
under its shard's key, the same bytes from the same URL) and one transaction then records the files, the
failed files, the events and the notifications: a shard is indexed exactly once.

The images of an uncompressed tar are not copied: each file row names the uploaded archive (whose key is
unique to that upload, so it never changes) and the member's byte offset, and readers fetch byte ranges.
Staging then costs one S3 write per archive instead of one per image, and a worker reads a task's
neighbouring images in one request. The images of compressed archives and fetched references are copied
into packs, several to an object, and read the same way (``ingest_svc.packing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import posixpath
import tarfile
import tempfile
import time
from dataclasses import dataclass, field

import httpx

from ingest_svc.config import IngestSettings
from ingest_svc.notifications import files_status, ingest_status
from ingest_svc.packing import Packer
from ingest_svc.repository import IngestRepository, IngestStore, Shard
from ingest_svc.service import new_shard_id, parse_references
from ingest_svc.validation import FileRejected, check_image, check_name, check_tar_member, sniff_video
from shared.db import Connection, Pool
from shared.errors import InvalidInput
from shared.events import IngestCompletedV1, ShardReadyV1
from shared.events.base import source_of
from shared.metrics import FILES_INGESTED, SHARDS_INDEXED
from shared.netsafe import FetchFailed, UnsafeURL, fetch_bytes, open_safe
from shared.outbox import enqueue, enqueue_many
from shared.staging import NewFile
from shared.storage import ObjectStore, file_key

log = logging.getLogger(__name__)
SOURCE = source_of("ingest")  # the CloudEvents source of the events this service writes

CHANNEL = "conveyor_shards"
ARCHIVES = ("tar",)
REFERENCES = ("image-references", "video-references")
NOTIFICATION_CONFIG = "notification_config.json"
# what a webhook of an ingest may be about; a tar's notification_config.json may not choose (inference-cli writes
# none): both, as Roboflow sends an ingest from local storage unfiltered
CATEGORIES = ("ingest-status", "files-status")
MAX_REFERENCES_FILE = 64 * 1024 * 1024
# gzip, bzip2, xz, zstd: members of a compressed archive are copied out; a plain tar's are read in place
COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


async def notify_if_complete(conn: Connection, settings: IngestSettings, ws: str, batch_id: str,
                             ingest_id: str) -> int:
    """Send the ingest's ``ingest-status`` if none of its shards can change any more; 1 when sent."""
    repo = IngestRepository(conn)
    ingest = await repo.lock_if_complete(ws, batch_id, ingest_id, settings.ingest_settle_s)
    if ingest is None:
        return 0
    totals = await repo.totals(ingest)
    await enqueue(conn, settings.kafka.topic_prefix, IngestCompletedV1(
        workspace_id=ingest.workspace_id, batch_id=ingest.batch_id, ingest_id=ingest.ingest_id,
        success=totals.failed_shards == 0, shards=totals.shards, failed_shards=totals.failed_shards,
        ingested_files=totals.ingested, failed_files=totals.failed_files, correlation_id=ingest.ingest_id),
        source=SOURCE)
    await enqueue_many(conn, settings.kafka.topic_prefix, ingest_status(ingest, totals), source=SOURCE)
    await repo.mark_notified(ingest)
    return 1


def listed_failures(failed: list[tuple[str, str, str]], limit: int) -> list[tuple[str, str, str]]:
    """The failed files a shard records (and its files-status webhook lists): all of them up to ``limit``,
    else the first ``limit - 1`` and one record that counts the rest."""
    if len(failed) <= limit:
        return failed
    more = len(failed) - limit + 1
    return [*failed[:limit - 1], (f"(+{more} more)", "more-failures-not-listed",
                                  f"{more} more files of this shard were refused; the first {limit - 1} are listed")]


class ShardFailed(Exception):
    """The shard as a whole cannot be indexed (unreadable archive, unsafe references URL)."""

    def __init__(self, failure_type: str, reason: str) -> None:
        super().__init__(reason)
        self.failure_type = failure_type
        self.reason = reason


@dataclass
class Outcome:
    files: list[NewFile] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, reason)
    ingest_id: str | None = None
    notifications_url: str | None = None
    notification_categories: list[str] = field(default_factory=list)


class Indexer:
    def __init__(self, settings: IngestSettings, pool: Pool, store: ObjectStore) -> None:
        self.settings = settings
        self.pool = pool
        self.store = store
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ loop
    async def run(self) -> None:
        listener = await self.pool.acquire()
        await listener.add_listener(CHANNEL, self._on_notify)
        http = httpx.AsyncClient(timeout=self.settings.fetch_timeout_s,
                                 limits=httpx.Limits(max_connections=self.settings.fetch_concurrency * 4))
        try:
            # archives (read from our own S3) and references (fetched from anywhere, perhaps slowly) have slots
            # of their own: no tenant's slow servers can hold the archive of another waiting
            await asyncio.gather(
                *(self._work(http, ARCHIVES) for _ in range(self.settings.indexer_concurrency)),
                *(self._work(http, REFERENCES) for _ in range(self.settings.reference_indexer_concurrency)),
                self._sweep_forever())
        finally:
            await http.aclose()
            with contextlib.suppress(Exception):
                await listener.remove_listener(CHANNEL, self._on_notify)
            await self.pool.release(listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _work(self, http: httpx.AsyncClient, kinds: tuple[str, ...]) -> None:
        while True:
            if not await self.index_next(http, kinds):
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)

    async def index_next(self, http: httpx.AsyncClient, kinds: tuple[str, ...] = ()) -> bool:
        """Claim and index one shard (of ``kinds``, or any); False when there was nothing to do."""
        async with self.pool.acquire() as conn, conn.transaction():
            repo = IngestStore(conn)
            for stale in await repo.exhausted_shards(self.settings.indexer_max_attempts):
                await self._record_failure(conn, stale, ShardFailed(
                    "indexing-failed", f"indexing failed {stale.attempts} times; upload the data again"))
            shard = await repo.claim_shard(self.settings.indexer_lease_s, self.settings.indexer_max_attempts,
                                           kinds or ARCHIVES + REFERENCES,
                                           self.settings.reference_slots_per_workspace if kinds == REFERENCES
                                           else None)
        if shard is None:
            return False
        renew = asyncio.create_task(self._renew(shard))
        try:
            outcome = await self._collect(shard, http)
        except ShardFailed as exc:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._record_failure(conn, shard, exc)
            return True
        except Exception:
            # S3 or the network failed: give the shard back for another attempt (attempts are counted)
            log.exception("indexing shard %s of %s failed; will retry", shard.shard_id, shard.batch_id)
            async with self.pool.acquire() as conn:
                await IngestStore(conn).set_shard_status(shard.workspace_id, shard.batch_id, shard.shard_id,
                                                               "uploaded", from_status="indexing")
            await asyncio.sleep(1.0)
            return True
        finally:
            renew.cancel()
        async with self.pool.acquire() as conn, conn.transaction():
            await self._record(conn, shard, outcome)
        return True

    async def _renew(self, shard: Shard) -> None:
        while True:
            await asyncio.sleep(self.settings.indexer_lease_s / 3)
            async with self.pool.acquire() as conn:
                await IngestStore(conn).renew_lease(shard, self.settings.indexer_lease_s)

    # ------------------------------------------------------------------ recording
    async def _record(self, conn: Connection, shard: Shard, outcome: Outcome) -> None:
        repo = IngestStore(conn)
        inserted = await repo.insert_files(shard.workspace_id, shard.batch_id, outcome.files)
        stored = [f for f in outcome.files if f.file_name in inserted]
        failed = outcome.failed + [
            (f.file_name, "duplicated-file-name", f"the batch already holds a file named {f.file_name}")
            for f in outcome.files if f.file_name not in inserted
        ]
        listed = listed_failures(failed, self.settings.max_failed_records)
        await repo.insert_failed(shard.workspace_id, shard.batch_id, shard.shard_id, listed)
        ingest_id = shard.ingest_id or outcome.ingest_id
        url = shard.notifications_url or outcome.notifications_url
        await repo.finish_shard(shard, "indexed", len(stored), len(failed), ingest_id=ingest_id,
                                notifications_url=url)
        prefix = self.settings.kafka.topic_prefix
        await enqueue(conn, prefix, ShardReadyV1(
            workspace_id=shard.workspace_id, batch_id=shard.batch_id, shard_id=shard.shard_id, ingest_id=ingest_id,
            ingested_files=len(stored), failed_files=len(failed)), source=SOURCE)
        categories = shard.notification_categories or outcome.notification_categories or list(CATEGORIES)
        if url:
            await enqueue_many(conn, prefix, files_status(
                workspace_id=shard.workspace_id, url=url, categories=categories, ingest_id=ingest_id,
                batch_id=shard.batch_id, shard_id=shard.shard_id, ingested=[f.file_name for f in stored],
                failed=listed), source=SOURCE)
        if ingest_id and shard.kind == "tar":  # a reference ingest was registered when it was requested
            await IngestRepository(conn).register(shard.workspace_id, shard.batch_id, ingest_id, url, categories)
        await self._notify_finished_ingests(conn, shard)
        FILES_INGESTED.labels("stored").inc(len(stored))
        FILES_INGESTED.labels("failed").inc(len(failed))
        SHARDS_INDEXED.labels("indexed").inc()
        log.info("indexed shard %s of %s: %d files, %d failed", shard.shard_id, shard.batch_id, len(stored),
                 len(failed))

    async def _record_failure(self, conn: Connection, shard: Shard, exc: ShardFailed) -> None:
        repo = IngestStore(conn)
        await repo.finish_shard(shard, "failed", 0, 0, error=f"{exc.failure_type}: {exc.reason}")
        prefix = self.settings.kafka.topic_prefix
        await enqueue(conn, prefix, ShardReadyV1(
            workspace_id=shard.workspace_id, batch_id=shard.batch_id, shard_id=shard.shard_id,
            ingest_id=shard.ingest_id, ingested_files=0, failed_files=0), source=SOURCE)
        await self._notify_finished_ingests(conn, shard)
        SHARDS_INDEXED.labels("failed").inc()
        log.warning("shard %s of %s failed: %s", shard.shard_id, shard.batch_id, exc.reason)

    async def _notify_finished_ingests(self, conn: Connection, shard: Shard) -> None:
        """A finished shard may complete its own ingest, or another of the batch that waited for this shard
        (a tar names its ingest only inside): each such ingest's ``ingest-status`` goes out once."""
        repo = IngestRepository(conn)
        for ws, batch_id, ingest_id in await repo.unnotified(shard.workspace_id, shard.batch_id):
            await notify_if_complete(conn, self.settings, ws, batch_id, ingest_id)

    async def _sweep_forever(self) -> None:
        while True:
            await self.sweep_ingests()
            await asyncio.sleep(self.settings.ingest_sweep_interval_s)

    async def sweep_ingests(self) -> int:
        """Ingests whose last shards have settled (or whose unused upload links expired) are notified now."""
        sent = 0
        async with self.pool.acquire() as conn:
            pending = await IngestRepository(conn).unnotified(limit=1000)
        for ws, batch_id, ingest_id in pending:
            async with self.pool.acquire() as conn, conn.transaction():
                sent += await notify_if_complete(conn, self.settings, ws, batch_id, ingest_id)
        return sent

    # ------------------------------------------------------------------ collecting
    async def _collect(self, shard: Shard, http: httpx.AsyncClient) -> Outcome:
        if shard.kind == "tar":
            return await self._collect_tar(shard)
        return await self._collect_references(shard, http)

    async def _existing(self, shard: Shard, names: list[str]) -> set[str]:
        async with self.pool.acquire() as conn:
            return await IngestStore(conn).existing_names(shard.workspace_id, shard.batch_id, "", names)

    def _packer(self, shard: Shard) -> Packer:
        return Packer(self.store, shard.workspace_id, shard.batch_id, shard.shard_id, self.settings.pack_bytes)

    @staticmethod
    async def _pack_image(packer: Packer, name: str, data: bytes, outcome: Outcome) -> None:
        try:
            content_type = await asyncio.to_thread(check_image, name, data)
        except FileRejected as exc:
            outcome.failed.append((name, exc.failure_type, exc.reason))
            return
        await packer.add(name, data, content_type)

    async def _collect_tar(self, shard: Shard) -> Outcome:
        outcome = Outcome()
        with tempfile.TemporaryFile() as spool:
            async for chunk in self.store.iter_object(shard.source_key):
                spool.write(chunk)
            spool.seek(0)
            compressed = spool.read(6).startswith(COMPRESSED_MAGIC)
            spool.seek(0)
            try:
                archive = tarfile.open(fileobj=spool, mode="r:*")  # noqa: SIM115 - lives as long as the spool
                members = archive.getmembers()
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise ShardFailed("corrupted-archive", f"the upload is not a readable tar archive: {exc}") from None
            accepted = self._accepted_members(archive, members, outcome)
            existing = await self._existing(shard, [n for n, _ in accepted])
            outcome.failed += [(n, "duplicated-file-name", f"the batch already holds {n}") for n, _ in accepted
                               if n in existing]
            fresh = [(n, m) for n, m in accepted if n not in existing]
            # an uncompressed archive keeps its images: they are read in place, by byte range
            in_place = [] if compressed else [(n, m) for n, m in fresh if not m.issparse()]
            copied = fresh if compressed else [(n, m) for n, m in fresh if m.issparse()]
            await asyncio.to_thread(self._index_in_place, shard, archive, in_place, outcome)
            await self._copy_members(shard, archive, copied, outcome)
        return outcome

    def _accepted_members(self, archive: tarfile.TarFile, members: list[tarfile.TarInfo],
                          outcome: Outcome) -> list[tuple[str, tarfile.TarInfo]]:
        """The archive's images that may be staged, by name; the rest become failed files."""
        accepted: list[tuple[str, tarfile.TarInfo]] = []
        seen: set[str] = set()
        regular: dict[str, tarfile.TarInfo] = {}  # what a later hard link may name
        for member in members:
            if member.isreg():
                regular[posixpath.normpath(member.name)] = member
            if member.isdir():
                continue
            if posixpath.normpath(member.name) == NOTIFICATION_CONFIG and member.isreg():
                self._read_notification_config(archive, member, outcome)
                continue
            try:
                name, member = check_tar_member(member, regular)
            except FileRejected as exc:
                outcome.failed.append((member.name, exc.failure_type, exc.reason))
                continue
            if name in seen:
                outcome.failed.append((name, "duplicated-file-name", f"{name} appears twice in the archive"))
                continue
            seen.add(name)
            if len(accepted) >= self.settings.max_tar_images:
                outcome.failed.append((name, "too-many-files",
                                       f"an archive may hold at most {self.settings.max_tar_images} images"))
                continue
            accepted.append((name, member))
        return accepted

    @staticmethod
    def _index_in_place(shard: Shard, archive: tarfile.TarFile, members: list[tuple[str, tarfile.TarInfo]],
                        outcome: Outcome) -> None:
        """Validate images that stay inside the archive (in a thread): no copy is written, the file is the
        member's bytes of the uploaded object, in archive order (so a task reads neighbours in one request)."""
        for name, member in members:
            extracted = archive.extractfile(member)
            try:
                content_type = check_image(name, extracted.read() if extracted else b"")
            except FileRejected as exc:
                outcome.failed.append((name, exc.failure_type, exc.reason))
                continue
            outcome.files.append(NewFile(part_name="", file_name=name, shard_id=shard.shard_id,
                                         content_type=content_type, size_bytes=member.size,
                                         object_key=shard.source_key, byte_offset=member.offset_data))

    async def _copy_members(self, shard: Shard, archive: tarfile.TarFile, members: list[tuple[str, tarfile.TarInfo]],
                            outcome: Outcome) -> None:
        """Copy images out of a compressed archive (or sparse members) into packs, in archive order."""
        packer = self._packer(shard)
        for name, member in members:
            extracted = archive.extractfile(member)
            await self._pack_image(packer, name, extracted.read() if extracted else b"", outcome)
        outcome.files += await packer.close()

    @staticmethod
    def _read_notification_config(archive: tarfile.TarFile, member: tarfile.TarInfo, outcome: Outcome) -> None:
        extracted = archive.extractfile(member)
        try:
            config = json.loads(extracted.read(65536) if extracted else b"{}")
        except ValueError:
            outcome.failed.append((NOTIFICATION_CONFIG, "invalid-notification-config", "not valid JSON"))
            return
        if isinstance(config, dict):
            outcome.ingest_id = str(config.get("ingestId") or "") or None
            outcome.notifications_url = str(config.get("notificationsURL") or "") or None
            categories = config.get("notificationCategories") or []
            if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
                outcome.failed.append((NOTIFICATION_CONFIG, "invalid-notification-config",
                                       f"notificationCategories is a list of {', '.join(CATEGORIES)}"))
                return
            outcome.notification_categories = categories

    async def _collect_references(self, shard: Shard, http: httpx.AsyncClient) -> Outcome:
        allowed = self.settings.fetch_allowlist()
        if shard.source_key.startswith("url:"):
            try:
                raw = await fetch_bytes(http, shard.source_key[4:], allowed, MAX_REFERENCES_FILE,
                                        deadline_s=self.settings.fetch_timeout_s)
            except UnsafeURL as exc:
                raise ShardFailed("unsafe-url-detected", str(exc)) from None
            except FetchFailed as exc:
                raise ShardFailed(exc.failure_type, f"references file: {exc.reason}") from None
        else:
            raw = await self.store.get_bytes(shard.source_key)
        try:
            refs = parse_references(raw)
        except InvalidInput as exc:
            raise ShardFailed("invalid-references", exc.message) from None
        if len(refs) > self.settings.references_per_shard:
            refs = await self._split(shard, refs)
        outcome = Outcome()
        valid: dict[str, str] = {}  # name -> url, in the file's order
        for ref in refs:
            try:
                name = check_name(ref["name"])
            except FileRejected as exc:
                outcome.failed.append((ref["name"][:200], exc.failure_type, exc.reason))
                continue
            if name in valid:
                outcome.failed.append((name, "duplicated-file-name", f"{name} is referenced twice"))
                continue
            valid[name] = ref["url"]
        existing = await self._existing(shard, list(valid))
        semaphore = asyncio.Semaphore(self.settings.fetch_concurrency)
        videos = shard.kind == "video-references"
        packer = self._packer(shard)
        # the shard's own deadline (images): its slot is free again by then, however slowly its servers answer
        ends = time.monotonic() + self.settings.reference_shard_deadline_s

        async def one(name: str, url: str) -> None:
            if name in existing:
                outcome.failed.append((name, "duplicated-file-name", f"the batch already holds {name}"))
                return
            async with semaphore:
                left = ends - time.monotonic()
                if left <= 0 and not videos:  # a video may take long to copy: only the per-workspace slots bound it
                    outcome.failed.append((name, "shard-deadline-exceeded", "not fetched: the shard's downloads "
                                           f"end after {self.settings.reference_shard_deadline_s:g}s"))
                    return
                try:
                    if videos:
                        await self._store_video(shard, name, url, http, allowed, outcome)
                    else:
                        data = await fetch_bytes(http, url, allowed, 20 * 1024 * 1024,
                                                 deadline_s=min(left, self.settings.fetch_timeout_s))
                        await self._pack_image(packer, name, data, outcome)
                except UnsafeURL as exc:
                    outcome.failed.append((name, "unsafe-url-detected", str(exc)))
                except FetchFailed as exc:
                    outcome.failed.append((name, exc.failure_type, exc.reason))

        await asyncio.gather(*(one(n, u) for n, u in valid.items()))
        outcome.files += await packer.close()
        return outcome

    async def _split(self, shard: Shard, refs: list[dict[str, str]]) -> list[dict[str, str]]:
        """A references file larger than a shard (a URL is one shard until it is read) becomes shards of
        ``references_per_shard`` of the same ingest, each indexed on its own like those of an inline request:
        in parallel, with a shard's memory. This shard keeps the first chunk (its source now that chunk's
        object: a retry reads only it) and the others are queued, all in one transaction, once their chunks
        are in S3. Returns this shard's references."""
        size = self.settings.references_per_shard
        chunks = [refs[start:start + size] for start in range(0, len(refs), size)]
        keys = [f"uploads/{shard.workspace_id}/{shard.batch_id}/{shard.shard_id}-{i}.jsonl" for i in range(len(chunks))]
        for key, chunk in zip(keys, chunks, strict=True):
            body = "".join(json.dumps({"name": r["name"], "url": r["url"]}) + "\n" for r in chunk).encode()
            await self.store.put_bytes(key, body, content_type="application/x-ndjson")
        async with self.pool.acquire() as conn, conn.transaction():
            repo = IngestStore(conn)
            await repo.set_shard_status(shard.workspace_id, shard.batch_id, shard.shard_id, "indexing",
                                        source_key=keys[0])
            for part, key in enumerate(keys[1:], start=1):
                await repo.insert_shard(shard.workspace_id, shard.batch_id, new_shard_id(), kind=shard.kind,
                                        status="uploaded", source_key=key, ingest_id=shard.ingest_id,
                                        ingest_part=part, notifications_url=shard.notifications_url,
                                        categories=shard.notification_categories)
            await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
        log.info("references file of shard %s (%s) split into %d shards of up to %d", shard.shard_id,
                 shard.batch_id, len(chunks), size)
        return chunks[0]

    async def _store_video(self, shard: Shard, name: str, url: str, http: httpx.AsyncClient,
                           allowed: frozenset[str], outcome: Outcome) -> None:
        resp = await open_safe(http, url, allowed)
        limit = self.settings.max_video_bytes
        key = file_key(shard.workspace_id, shard.batch_id, None, name, unique=shard.shard_id)
        head = bytearray()

        async def body():
            total = 0
            async for chunk in resp.aiter_bytes():
                total += len(chunk)
                if total > limit:
                    raise FetchFailed("file-size-limit-exceeded", f"more than {limit} bytes")
                if len(head) < 64:
                    head.extend(chunk[:64 - len(head)])
                yield chunk

        try:
            size = await self.store.put_stream(key, body())
        finally:
            await resp.aclose()
        content_type = sniff_video(bytes(head))
        if content_type is None or size == 0:
            await self.store.client.delete_object(Bucket=self.settings.s3.staging_bucket, Key=key)
            outcome.failed.append((name, "unsupported-content", f"{name} is not a video"))
            return
        outcome.files.append(NewFile(part_name="", file_name=name, shard_id=shard.shard_id,
                                     content_type=content_type, size_bytes=size, object_key=key))
