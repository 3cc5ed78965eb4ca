"""How an export's results are cut into archives (``export_svc.service`` writes them): results in the order of
their names, a task's image outputs with its result, a new archive before the one that would pass
``EXPORT_MAX_ARCHIVE_BYTES``; a result larger than that on its own still makes one archive, never none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = Mapping[str, Any]  # a file of the results batch: file_name, shard_id (its task), size_bytes


@dataclass
class Archive:
    results: list[Row] = field(default_factory=list)
    images: list[Row] = field(default_factory=list)
    size: int = 0


def pack(results: Sequence[Row], images: Sequence[Row], max_bytes: int) -> list[Archive]:
    """The archives of an export, at least one (an export of nothing is one empty archive)."""
    images_by_task: dict[str | None, list[Row]] = {}
    for image in images:
        images_by_task.setdefault(image["shard_id"], []).append(image)
    archives = [Archive()]
    for result in sorted(results, key=lambda r: r["file_name"]):
        own = images_by_task.get(result["shard_id"], [])
        size = result["size_bytes"] + sum(i["size_bytes"] for i in own)
        if archives[-1].results and archives[-1].size + size > max_bytes:
            archives.append(Archive())
        archives[-1].results.append(result)
        archives[-1].images += own
        archives[-1].size += size
    return archives
