"""The docs' table of how close estimates come is ``bench/results/estimate.json`` (``python -m bench.estimate``),
so it cannot drift: ``python -m tests.contracts.test_docs_estimate`` prints it."""

from __future__ import annotations

import json

from bench.estimate import RESULT, markdown
from tests.contracts.generated import Block

BLOCK = Block("estimate table", "tests/contracts/test_docs_estimate.py", "docs/estimates.md",
              "bench/results/estimate.json")


def table() -> str:
    return markdown(json.loads(RESULT.read_text()))


def test_the_readme_quotes_the_last_estimate_benchmark() -> None:
    BLOCK.check(table())


if __name__ == "__main__":
    BLOCK.show(table())
