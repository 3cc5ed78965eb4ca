"""Reading a task's staged files, with neighbours inside one uploaded archive fetched together.

Images of an uncompressed tar stay inside it (their rows carry the archive's key and a byte offset), and
a task's files are consecutive in the batch, hence in archive order. Files that sit close together in
the same archive are read with one ranged request of up to ``max_span`` bytes instead of one each: a
task of 256 small images costs a handful of requests, not 256.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.storage import ObjectStore

MAX_SPAN = 8 * 1024 * 1024  # bytes held at once per span: a few images of any size, hundreds of small ones
MAX_GAP = 64 * 1024  # tar headers and rejected members between two files are read rather than skipped


@dataclass(frozen=True)
class Span:
    key: str
    start: int
    end: int  # exclusive


def plan_spans(files: Sequence[Mapping[str, Any]], max_span: int = MAX_SPAN,
               max_gap: int = MAX_GAP) -> list[Span | None]:
    """The span each file is read from, in order; None for a file that is a whole object of its own."""
    spans: list[Span | None] = []
    group: list[int] = []  # indices of the files of the span being built
    key, start, end = "", 0, 0

    def close() -> None:
        span = Span(key, start, end)
        for i in group:
            spans[i] = span
        group.clear()

    for i, f in enumerate(files):
        spans.append(None)
        offset, size = f["byte_offset"], f["size_bytes"]
        if offset is None or size <= 0:
            continue
        joins = (group and f["object_key"] == key and start <= offset <= end + max_gap
                 and max(end, offset + size) - start <= max_span)
        if group and not joins:
            close()
        if not group:
            key, start, end = f["object_key"], offset, offset + size
        end = max(end, offset + size)
        group.append(i)
    if group:
        close()
    return spans


class SpanTooShort(Exception):
    """The archive holds fewer bytes than its index says (it was truncated or replaced)."""


class StagedReader:
    """Reads the files of one task, in any order; a span's request is shared by its files and dropped once
    they all have their bytes."""

    def __init__(self, store: ObjectStore, files: Sequence[Mapping[str, Any]], max_span: int = MAX_SPAN) -> None:
        self._store = store
        self._files = files
        self._spans = plan_spans(files, max_span)
        self._unread = Counter(s for s in self._spans if s is not None)
        self._fetches: dict[Span, asyncio.Task[bytes]] = {}

    @property
    def requests(self) -> int:
        """How many requests reading every file takes."""
        return len(set(self._spans) - {None}) + sum(
            1 for s, f in zip(self._spans, self._files, strict=True) if s is None and f["byte_offset"] is None)

    async def read(self, index: int) -> bytes:
        """The bytes of file ``index``; raises ``ObjectMissing`` or ``SpanTooShort``."""
        f, span = self._files[index], self._spans[index]
        if span is None:
            if f["byte_offset"] is not None:
                return b""  # an empty archive member
            return await self._store.fetch(f["object_key"])
        fetch = self._fetches.get(span)
        if fetch is None:
            fetch = self._fetches[span] = asyncio.create_task(
                self._store.fetch(span.key, byte_range=(span.start, span.end)))
        try:
            data = await asyncio.shield(fetch)  # a reader cancelled does not cancel its neighbours' request
        finally:
            self._unread[span] -= 1
            if self._unread[span] == 0:
                self._fetches.pop(span, None)
        begin = f["byte_offset"] - span.start
        piece = data[begin:begin + f["size_bytes"]]
        if len(piece) != f["size_bytes"]:
            raise SpanTooShort(f"{len(piece)} of {f['size_bytes']} bytes")
        return piece

    def close(self) -> None:
        for fetch in self._fetches.values():
            fetch.cancel()
        self._fetches.clear()
