"""Packs: the images that indexing copies (fetched references, members of compressed archives) written
together, several to an S3 object, instead of one object each.

A file row then names its pack and its byte offset, exactly as a plain tar's images name the upload and
theirs: readers fetch byte ranges, and a worker reads a task's neighbours in one request
(``worker_svc.spans``). Staging 1,000 references costs a few writes instead of 1,000, and the bucket
holds a few objects instead of one per file.

A pack's key is unique to one indexing attempt (a random token): an attempt that overlaps another (a lease
taken over) never overwrites the pack whose offsets the other records. What an attempt wrote but did not
record is removed with its batch at expiry.
"""

from __future__ import annotations

import uuid

from shared.staging import NewFile
from shared.storage import ObjectStore, file_key

PACK_BYTES = 8 * 1024 * 1024  # a pack is written once it holds this much (the worker's span size)


class Packer:
    """Collects a shard's images and writes them in packs of about ``limit`` bytes; ``close`` writes the
    last one and returns every image as a file row, in pack order (so a task's files are neighbours)."""

    def __init__(self, store: ObjectStore, workspace_id: str, batch_id: str, shard_id: str,
                 limit: int = PACK_BYTES) -> None:
        self._store = store
        self._workspace_id = workspace_id
        self._batch_id = batch_id
        self._shard_id = shard_id
        self._attempt = uuid.uuid4().hex[:12]
        self._limit = limit
        self._buffer = bytearray()
        self._pending: list[tuple[str, str, int, int]] = []  # name, content type, offset, size
        self._packs = 0
        self.files: list[NewFile] = []

    async def add(self, name: str, data: bytes, content_type: str) -> None:
        # no await between taking the offset and appending: concurrent adds of one shard never interleave
        self._pending.append((name, content_type, len(self._buffer), len(data)))
        self._buffer += data
        if len(self._buffer) >= self._limit:
            await self._write()

    async def close(self) -> list[NewFile]:
        if self._pending:
            await self._write()
        return self.files

    async def _write(self) -> None:
        data, pending = bytes(self._buffer), self._pending
        self._buffer, self._pending = bytearray(), []
        key = file_key(self._workspace_id, self._batch_id, None, f"pack-{self._packs:05d}",
                       unique=f"{self._shard_id}-{self._attempt}")
        self._packs += 1
        await self._store.put_small(key, data)
        self.files += [NewFile(part_name="", file_name=name, shard_id=self._shard_id, content_type=content_type,
                               size_bytes=size, object_key=key, byte_offset=offset)
                       for name, content_type, offset, size in pending]
