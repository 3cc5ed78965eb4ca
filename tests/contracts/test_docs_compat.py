"""The docs' table of how far Roboflow's own workflow definitions get, and the counts it gives of where they stop,
are ``bench/results/compat.json`` (``python -m bench.compat``), so they cannot drift:
``python -m tests.contracts.test_docs_compat`` prints the table."""

from __future__ import annotations

import json
from typing import Any

from bench.compat import RESULTS, markdown
from tests.contracts.generated import Block

BLOCK = Block("compat table", "tests/contracts/test_docs_compat.py", "docs/workflows.md", "bench/results/compat.json")


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads(RESULTS.read_text())
    return results


def table() -> str:
    results = _results()
    return markdown(results["table"], results["one_image_input"])


def test_the_readme_quotes_the_compat_table() -> None:
    BLOCK.check(table())


def test_the_readme_counts_where_definitions_stop() -> None:
    records = _results()["definitions"]
    builtin = [r["builtin"] for r in records]
    lacks = sum("unknown block" in b.get("reason", "") for b in builtin)
    on_purpose = sum(r["builtin"]["stage"] == r["engine"]["stage"] == "refused"
                     and not any(w in r["builtin"].get("reason", "") for w in ("unknown block", "is blocked"))
                     for r in records)
    not_run = sum(r["engine"].get("reason", "").startswith("not run here") for r in records)
    unchecked = sum(r["builtin"]["stage"] == "processed" and r["builtin_equal"] is None for r in records)
    text = " ".join(BLOCK.text().split())
    assert f"the built-in executor lacks the block in {lacks} " in text
    assert f"The built-in executor refuses {on_purpose} that Roboflow's compiler refuses too" in text
    foundation = sum("registry cannot serve" in r["engine"].get("reason", "") for r in records)
    assert f"On the engine, {foundation} that need a foundation model" in text
    assert f"and {not_run} a job could be created for call an external service" in text
    assert f"The {unchecked} the built-in executor processes without a comparison" in text


if __name__ == "__main__":
    BLOCK.show(table())
