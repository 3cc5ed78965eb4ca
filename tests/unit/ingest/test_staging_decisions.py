"""Ingest's decisions on plain inputs: which failed files a shard lists, which notifications an ingest and a shard
send (only the categories asked for, files-status in chunks of 1,000), and how a references or metadata upload
is read, each on both sides of its boundary."""

import json
from typing import Any

import pytest

from ingest_svc.indexer import listed_failures
from ingest_svc.notifications import FILES_PER_NOTIFICATION, files_status, ingest_status
from ingest_svc.repository import Ingest, IngestTotals
from ingest_svc.service import parse_metadata, parse_references
from shared.errors import InvalidInput


def _failed(n: int) -> list[tuple[str, str, str]]:
    return [(f"f{i}.jpg", "unreadable-image", "not an image") for i in range(n)]


def test_a_shard_lists_its_failed_files_up_to_the_limit_then_counts_the_rest() -> None:
    assert listed_failures(_failed(5), limit=5) == _failed(5)
    over = listed_failures(_failed(6), limit=5)
    assert over[:4] == _failed(4) and len(over) == 5
    assert over[-1][0] == "(+2 more)" and over[-1][1] == "more-failures-not-listed"


def _files(ingested: int, failed: int, categories: list[str]) -> list[dict[str, Any]]:
    sent = files_status(workspace_id="w", url="https://hooks.test/x", categories=categories, ingest_id="i",
                        batch_id="b", shard_id="s", ingested=[f"ok{i}.jpg" for i in range(ingested)],
                        failed=_failed(failed))
    return [r.payload["notification"] for r in sent]


def test_files_status_goes_in_chunks_of_a_thousand_and_only_when_asked_for() -> None:
    assert _files(10, 2, ["ingest-status"]) == []
    (one,) = _files(FILES_PER_NOTIFICATION - 1, 1, ["files-status"])
    assert len(one["ingested_files"]) == FILES_PER_NOTIFICATION - 1 and len(one["failed_files"]) == 1
    first, second = _files(FILES_PER_NOTIFICATION, 1, ["files-status"])
    assert len(first["ingested_files"]) == FILES_PER_NOTIFICATION and first["failed_files"] == []
    assert second["ingested_files"] == [] and second["failed_files"][0]["file_name"] == "f0.jpg"
    (empty,) = _files(0, 0, ["files-status"])  # an empty shard still says so
    assert empty == {**empty, "ingested_files": [], "failed_files": []}


def test_an_ingest_sends_its_status_once_with_why_it_failed_when_asked_for() -> None:
    ingest = Ingest("w", "b", "i", "https://hooks.test/x", ["ingest-status"])
    ok = ingest_status(ingest, IngestTotals(shards=2, ingested=10, failed_files=1, failed_shards=0, first_error=None))
    (request,) = ok
    assert request.category == "ingest-status" and request.payload["notification"]["success"] is True
    (bad,) = ingest_status(ingest, IngestTotals(2, 5, 0, 1, "unreadable-archive: not a tar"))
    details = bad.payload["notification"]["error_details"]
    assert details["type"] == "unreadable-archive" and details["reason"] == "not a tar"
    files_only = Ingest("w", "b", "i", "https://hooks.test/x", ["files-status"])
    assert ingest_status(files_only, IngestTotals(1, 1, 0, 0, None)) == []
    assert ingest_status(Ingest("w", "b", "i", None, ["ingest-status"]), IngestTotals(1, 1, 0, 0, None)) == []


def test_a_references_upload_is_read_line_by_line_and_a_bad_line_is_named() -> None:
    lines = [{"name": "a.jpg", "url": "s3://bucket/a.jpg"}, {"name": "b.jpg", "url": "https://x.test/b.jpg"}]
    data = ("\n".join(json.dumps(line) for line in lines) + "\n\n").encode()
    assert parse_references(data) == lines
    with pytest.raises(InvalidInput, match="references line 2 is not JSON"):
        parse_references(b'{"name": "a.jpg", "url": "u"}\nnot json\n')
    with pytest.raises(InvalidInput, match="references line 1 must be an object"):
        parse_references(b'{"name": "a.jpg"}\n')


def test_a_metadata_upload_keeps_the_last_record_of_a_name_and_refuses_a_bad_line() -> None:
    data = b'{"fileName": "a.jpg", "metadata": {"k": 1}}\n{"fileName": "a.jpg", "metadata": {"k": 2}}\n'
    assert parse_metadata(data) == [("a.jpg", {"k": 2})]
    with pytest.raises(InvalidInput, match="metadata line 1 must be an object"):
        parse_metadata(b'{"fileName": "a.jpg", "metadata": []}\n')
    with pytest.raises(InvalidInput, match="holds no records"):
        parse_metadata(b"\n\n")
