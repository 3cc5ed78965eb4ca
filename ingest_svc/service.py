"""Use cases of data staging. Callers own the transaction; nothing here commits.

Batch typing: simple image uploads make a ``simple-batch`` of images; tar and reference ingests make a
``sharded-batch``; videos make a batch of videos. The first upload creates the batch, and a later upload
of another kind into it is a 409, so nothing already accepted is ever mixed or lost.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest_svc.config import IngestSettings
from ingest_svc.errors import BatchExpired, BatchNotFound, BatchTypeConflict, DuplicateFile
from ingest_svc.repository import IngestRepository, IngestStore, Shard
from ingest_svc.schemas import ImageReferencesIngest, ReferencesIngestResponse, SignedURLDetails, VideoReferencesIngest
from ingest_svc.signing import sign
from ingest_svc.validation import FileRejected, check_image, check_name, check_video
from shared.db import Connection
from shared.errors import Conflict, InvalidInput, TooLarge
from shared.ids import looks_like_id, validate_batch_id
from shared.metrics import FILES_INGESTED
from shared.netsafe import UnsafeURL, check_url_static
from shared.staging import Batch, NewFile
from shared.storage import ObjectStore, file_key

_PART_NAME = re.compile(r"[a-z0-9_-]{1,64}")
UPLOAD = "upload"
DOWNLOAD = "download"


@dataclass(frozen=True)
class Upload:
    """What a signed upload link lets its holder do."""

    workspace_id: str
    batch_id: str
    shard_id: str


def new_shard_id() -> str:
    return uuid.uuid4().hex


class StagingService:
    def __init__(self, settings: IngestSettings, store: ObjectStore) -> None:
        self.settings = settings
        self.store = store

    # ------------------------------------------------------------------ batches
    async def get_batch(self, repo: IngestStore, ws: str, batch_id: str) -> Batch:
        if not looks_like_id(batch_id):
            raise BatchNotFound(batch_id)
        batch = await repo.get_batch(ws, batch_id)
        if batch is None:
            raise BatchNotFound(batch_id)
        if batch.expires_at <= datetime.now(UTC):
            raise BatchExpired(batch_id)
        return batch

    async def open_batch(self, repo: IngestStore, ws: str, batch_id: str, display_name: str | None, *,
                         batch_type: str, content_type: str) -> Batch:
        """The batch to upload into, created on first use; refuses to mix upload kinds."""
        validate_batch_id(batch_id)
        expires = datetime.now(UTC) + self.settings.s3.staging_expiry
        await repo.insert_batch(ws, batch_id, display_name or batch_id, batch_type, content_type, expires)
        batch = await repo.get_batch(ws, batch_id, lock=True)
        assert batch is not None
        if batch.expires_at <= datetime.now(UTC):
            raise BatchExpired(batch_id)
        if batch.batch_type == "multipart-batch":
            raise Conflict(f"batch {batch_id!r} holds job outputs and cannot take uploads")
        if (batch.batch_type, batch.content_type) == ("simple-batch", "images") and batch_type == "sharded-batch" \
                and content_type == "images":
            # a folder that grew past the simple-upload size is uploaded again in bulk: the batch grows into
            # a sharded one (the other way, single uploads into a bulk batch, stays refused, as in Roboflow)
            await repo.set_batch_type(ws, batch_id, "sharded-batch")
            return replace(batch, batch_type="sharded-batch")
        if (batch.batch_type, batch.content_type) != (batch_type, content_type):
            existing = f"{batch.batch_type.removesuffix('-batch')} {batch.content_type}"
            raise BatchTypeConflict(batch_id, existing, f"{batch_type.removesuffix('-batch')} {content_type}")
        return batch

    # ------------------------------------------------------------------ links
    def _link_expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.settings.link_ttl_s)

    def upload_link(self, upload: Upload, max_bytes: int) -> SignedURLDetails:
        token = sign(self.settings.link_secret, {"kind": UPLOAD, "ws": upload.workspace_id,
                                                    "b": upload.batch_id, "s": upload.shard_id},
                     self.settings.link_ttl_s)
        return SignedURLDetails(upload_url=f"{self.settings.public_url}/files/upload/{token}",
                                extension_headers={}, max_file_size_bytes=max_bytes)

    def download_link(self, object_key: str, file_name: str, content_type: str,
                      byte_range: tuple[int, int] | None = None) -> str:
        claims: dict[str, object] = {"kind": DOWNLOAD, "k": object_key, "n": file_name, "ct": content_type}
        if byte_range is not None:  # a file kept inside its uploaded archive
            claims["r"] = list(byte_range)
        token = sign(self.settings.link_secret, claims, self.settings.link_ttl_s)
        return f"{self.settings.public_url}/files/download/{token}"

    # ------------------------------------------------------------------ simple image upload
    async def upload_image(self, conn: Connection, ws: str, batch_id: str, display_name: str | None,
                           file_name: str, data: bytes) -> bool:
        """Stage one image. Returns False when the same name and content was already staged (a retry)."""
        repo = IngestStore(conn)
        batch = await self.open_batch(repo, ws, batch_id, display_name, batch_type="simple-batch",
                                      content_type="images")
        try:
            name = check_name(file_name)
            content_type = check_image(name, data)
        except FileRejected as exc:
            status = TooLarge if exc.failure_type == "file-size-limit-exceeded" else InvalidInput
            raise status(f"{exc.failure_type}: {exc.reason}") from None
        digest = hashlib.sha256(data).hexdigest()[:16]
        key = file_key(ws, batch.batch_id, None, name, unique=digest)
        existing = await repo.get_file(ws, batch_id, "", name)
        if existing is not None:
            if existing["object_key"] == key:
                return False  # identical retry: idempotent
            raise DuplicateFile(batch_id, name)
        await self.store.put_bytes(key, data, content_type=content_type)
        new = NewFile(part_name="", file_name=name, shard_id=None, content_type=content_type,
                      size_bytes=len(data), object_key=key)
        if not await repo.insert_files(ws, batch_id, [new]):
            raise DuplicateFile(batch_id, name)
        FILES_INGESTED.labels("stored").inc()
        return True

    # ------------------------------------------------------------------ per-image metadata
    async def upload_metadata(self, conn: Connection, ws: str, batch_id: str, part_name: str,
                              data: bytes) -> int:
        """Stage a JSONL of ``{"fileName": ..., "metadata": {...}}`` as the batch's metadata part ``part_name``;
        jobs feed its values to workflow inputs (``imagesMetadataInputsMapping``). Returns the records stored."""
        validate_part_name(part_name)
        repo = IngestStore(conn)
        batch = await self.get_batch(repo, ws, batch_id)
        if batch.batch_type == "multipart-batch" or batch.content_type != "images":
            raise InvalidInput(f"batch {batch_id!r} holds {batch.content_type}; metadata parts describe staged images")
        records = parse_metadata(data)
        await repo.upsert_part(ws, batch_id, part_name, "metadata-part", "metadata", None,
                               "per-image metadata (JSONL)")
        return await repo.upsert_metadata(ws, batch_id, part_name, records)

    # ------------------------------------------------------------------ signed-URL uploads
    async def request_video_upload(self, conn: Connection, ws: str, batch_id: str,
                                   display_name: str | None, file_name: str) -> SignedURLDetails:
        repo = IngestStore(conn)
        await self.open_batch(repo, ws, batch_id, display_name, batch_type="simple-batch", content_type="videos")
        try:
            name = check_name(file_name)
        except FileRejected as exc:
            raise InvalidInput(f"{exc.failure_type}: {exc.reason}") from None
        if await repo.get_file(ws, batch_id, "", name) is not None:
            raise DuplicateFile(batch_id, name)
        shard_id = new_shard_id()
        await repo.insert_shard(ws, batch_id, shard_id, kind="video", status="awaiting-upload",
                                source_key=file_key(ws, batch_id, None, name, unique=shard_id), file_name=name,
                                link_expires_at=self._link_expiry())
        return self.upload_link(Upload(ws, batch_id, shard_id), self.settings.max_video_bytes)

    async def request_tar_upload(self, conn: Connection, ws: str, batch_id: str,
                                 display_name: str | None) -> SignedURLDetails:
        repo = IngestStore(conn)
        await self.open_batch(repo, ws, batch_id, display_name, batch_type="sharded-batch", content_type="images")
        shard_id = new_shard_id()
        await repo.insert_shard(ws, batch_id, shard_id, kind="tar", status="awaiting-upload",
                                source_key=f"uploads/{ws}/{batch_id}/{shard_id}.tar",
                                link_expires_at=self._link_expiry())
        details = self.upload_link(Upload(ws, batch_id, shard_id), self.settings.max_tar_bytes)
        return details.model_copy(update={"max_files": self.settings.max_tar_images})

    async def pending_upload(self, conn: Connection, upload: Upload) -> Shard:
        shard = await IngestStore(conn).get_shard(upload.workspace_id, upload.batch_id, upload.shard_id)
        if shard is None:
            raise BatchNotFound(upload.batch_id)
        if shard.status != "awaiting-upload":
            raise Conflict("this upload link was already used")
        return shard

    async def receive_upload(self, shard: Shard, body: AsyncIterator[bytes]) -> tuple[str, int]:
        """Stream an uploaded tar or video into S3 (outside any transaction); returns its key and size.

        Each attempt at a tar goes to a key of its own: its images are read from the archive in place, so
        an archive that was indexed must never be overwritten by a second use of the same link."""
        key = shard.source_key
        if shard.kind == "tar":
            key = f"{key.removesuffix('.tar')}-{uuid.uuid4().hex[:12]}.tar"
        limit = self.settings.max_tar_bytes if shard.kind == "tar" else self.settings.max_video_bytes
        head = bytearray()

        async def guarded() -> AsyncIterator[bytes]:
            total = 0
            async for chunk in body:
                total += len(chunk)
                if total > limit:
                    raise TooLarge(f"upload exceeds the limit of {limit} bytes")
                if len(head) < 64:
                    head.extend(chunk[:64 - len(head)])
                    if shard.kind == "video" and len(head) >= 64:
                        _check_video_head(shard, bytes(head))
                yield chunk

        size = await self.store.put_stream(key, guarded())
        if size == 0:
            await self.store.client.delete_object(Bucket=self.settings.s3.staging_bucket, Key=key)
            raise InvalidInput("the upload is empty")
        if shard.kind == "video" and len(head) < 64:
            _check_video_head(shard, bytes(head))
        return key, size

    async def complete_upload(self, conn: Connection, shard: Shard, key: str, size: int) -> None:
        repo = IngestStore(conn)
        if shard.kind == "tar":
            if not await repo.set_shard_status(shard.workspace_id, shard.batch_id, shard.shard_id, "uploaded",
                                               from_status="awaiting-upload", source_key=key):
                await self.store.client.delete_object(Bucket=self.settings.s3.staging_bucket, Key=key)
                raise Conflict("this upload link was already used")
            await conn.execute("SELECT pg_notify('conveyor_shards', '')")
            return
        assert shard.file_name is not None
        head = await self.store.client.head_object(Bucket=self.settings.s3.staging_bucket, Key=key)
        new = NewFile(part_name="", file_name=shard.file_name, shard_id=shard.shard_id,
                      content_type=head.get("ContentType") or "video/mp4", size_bytes=size, object_key=key)
        if not await repo.insert_files(shard.workspace_id, shard.batch_id, [new]):
            raise DuplicateFile(shard.batch_id, shard.file_name)
        await repo.finish_shard(shard, "indexed", 1, 0)

    # ------------------------------------------------------------------ references
    async def ingest_references(self, conn: Connection, ws: str, batch_id: str, display_name: str | None,
                                request: ImageReferencesIngest | VideoReferencesIngest) -> ReferencesIngestResponse:
        videos = isinstance(request, VideoReferencesIngest)
        kind = "video-references" if videos else "image-references"
        repo = IngestStore(conn)
        await self.open_batch(repo, ws, batch_id, display_name, batch_type="sharded-batch",
                              content_type="videos" if videos else "images")
        ingest_id = request.ingest_id or uuid.uuid4().hex
        previous = await repo.shards_of_ingest(ws, batch_id, ingest_id, kind)
        if previous:
            return ReferencesIngestResponse(ingest_id=ingest_id, shard_ids=[s.shard_id for s in previous],
                                            duplicated=True)
        if request.notifications_url:
            try:
                check_url_static(request.notifications_url, frozenset(self.settings.webhook_allowed_hosts))
            except UnsafeURL as exc:
                raise InvalidInput(f"unsafe-url-detected: notificationsURL: {exc}") from None
        # Roboflow's default for reference ingests: the ingest's status only (files-status when asked for); a tar
        # cannot ask, and gets both (ingest_svc.indexer), as Roboflow sends local-storage ingests unfiltered
        categories = list(request.notification_categories or (["ingest-status"] if request.notifications_url else []))
        if request.references_url is not None:
            try:
                check_url_static(request.references_url, self.settings.fetch_allowlist())
            except UnsafeURL as exc:
                raise InvalidInput(f"unsafe-url-detected: {exc}") from None
            chunks: list[tuple[str, bytes | None]] = [(f"url:{request.references_url}", None)]
        else:
            assert request.references is not None
            refs = request.references
            size = self.settings.references_per_shard
            chunks = []
            for start in range(0, len(refs), size):
                lines = "".join(json.dumps({"name": r.name, "url": r.url}) + "\n" for r in refs[start:start + size])
                chunks.append(("", lines.encode()))
        shard_ids = []
        for part, (source, body) in enumerate(chunks):
            shard_id = new_shard_id()
            key = source or f"uploads/{ws}/{batch_id}/{shard_id}.jsonl"
            # the unique (ingest, part) key refuses a concurrent request for the same ingest at part 0,
            # before anything is written to S3
            inserted = await repo.insert_shard(ws, batch_id, shard_id, kind=kind, status="uploaded", source_key=key,
                                               ingest_id=ingest_id, ingest_part=part,
                                               notifications_url=request.notifications_url, categories=categories)
            if not inserted:
                raise Conflict(f"ingest {ingest_id!r} is being created by another request")
            if body is not None:
                await self.store.put_bytes(key, body, content_type="application/x-ndjson")
            shard_ids.append(shard_id)
        # tracked to its end whether or not it wants a webhook: its completion is an event too
        await IngestRepository(conn).register(ws, batch_id, ingest_id, request.notifications_url, categories)
        await conn.execute("SELECT pg_notify('conveyor_shards', '')")
        return ReferencesIngestResponse(ingest_id=ingest_id, shard_ids=shard_ids, duplicated=False)


def _check_video_head(shard: Shard, head: bytes) -> None:
    try:
        check_video(shard.file_name or "video", head)
    except FileRejected as exc:
        raise InvalidInput(f"{exc.failure_type}: {exc.reason}") from None


MAX_METADATA_RECORD = 64 * 1024


def validate_part_name(part_name: str) -> None:
    if not _PART_NAME.fullmatch(part_name):
        raise InvalidInput("partName must be 1 to 64 lower-case letters, digits, '-' or '_'")


def parse_metadata(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(file name, metadata object) of each line; a malformed line is a 400 naming its number."""
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        if len(line) > MAX_METADATA_RECORD:
            raise InvalidInput(f"metadata line {number} is longer than {MAX_METADATA_RECORD} bytes")
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidInput(f"metadata line {number} is not JSON") from None
        name = item.get("fileName") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(item.get("metadata"), dict):
            raise InvalidInput(f"metadata line {number} must be an object with a string 'fileName' and an object "
                               f"'metadata'")
        try:
            records[check_name(name)] = item["metadata"]
        except FileRejected as exc:
            raise InvalidInput(f"metadata line {number}: {exc.reason}") from None
    if not records:
        raise InvalidInput("the metadata upload holds no records")
    return list(records.items())


def parse_references(data: bytes) -> list[dict[str, str]]:
    """Parse a JSONL of ``{"name", "url"}`` objects; malformed lines are reported with their number."""
    refs = []
    for number, line in enumerate(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"), 1):
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidInput(f"references line {number} is not JSON") from None
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("url"), str):
            raise InvalidInput(f"references line {number} must be an object with string 'name' and 'url'")
        refs.append({"name": item["name"], "url": item["url"]})
    return refs
