"""Roboflow's CSV formatter: the step's columns (values from the workflow, each through its own operations) and
the time of writing, as CSV text with a header. A batch job runs each image on its own, so each image's text is its
header and its one row (Roboflow's engine writes the rows of a whole request into its last image's text)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from worker_svc.results import spreadsheet_safe
from worker_svc.workflows import uql


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return spreadsheet_safe(value)  # Roboflow's guard against CSV injection


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    row = dict(p["columns_data"])
    for column, operations in p["columns_operations"].items():
        row[column] = uql.apply(operations, row[column], {})
    row["timestamp"] = datetime.now(tz=UTC).isoformat()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(row)
    writer.writerow([_cell(value) for value in row.values()])
    return {"csv_content": text.getvalue()}
