"""Result files of a task: one record per image (or video frame), as JSONL or CSV.

The record format follows inference-cli's own local aggregation: the workflow's serialised outputs plus
``image`` (the input file name); video frames carry ``video``, ``frame_number`` and ``frame_timestamp``.
In CSV, nested values are JSON-encoded, and a text cell a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@``, tab or carriage return first: a file's metadata, a name) is written with a leading ``'``, as
Roboflow's CSV formatter does.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

KEY_COLUMNS = ("image", "video", "frame_number", "frame_timestamp")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value``, or a text that starts like a formula made inert (OWASP's CSV injection advice)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def to_jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in records).encode()


def to_csv(records: list[dict[str, Any]]) -> bytes:
    columns: list[str] = [c for c in KEY_COLUMNS if any(c in r for r in records)]
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: spreadsheet_safe(v) if isinstance(v, str | int | float) or v is None
                         else json.dumps(v, default=str) for k, v in record.items()})
    return out.getvalue().encode()


def encode(records: list[dict[str, Any]], fmt: str) -> tuple[bytes, str]:
    if fmt == "csv":
        return to_csv(records), "text/csv"
    return to_jsonl(records), "application/x-ndjson"
