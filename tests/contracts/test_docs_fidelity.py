"""The docs' table of the differences from Roboflow's engine that the built-in executor keeps on purpose is
``bench.fidelity_named.NAMED``, so it cannot drift: ``python -m tests.contracts.test_docs_fidelity`` prints it."""

from __future__ import annotations

from bench.fidelity_named import NAMED
from shared.config import REPO_ROOT
from tests.contracts.generated import Block

BLOCK = Block("named differences", "tests/contracts/test_docs_fidelity.py", "docs/workflows.md")


def table() -> str:
    rows = ["| name | Roboflow's engine | the built-in executor |", "|---|---|---|"]
    return "\n".join(rows + [f"| `{n.name}` | {n.roboflow} | {n.ours} |" for n in NAMED])


def test_the_readme_names_every_difference_kept_on_purpose() -> None:
    BLOCK.check(table())


def test_the_readme_quotes_the_last_fidelity_run() -> None:
    """The counts the docs give are those of ``bench/results/fidelity.json`` (``python -m bench.fidelity``)."""
    import json

    run = json.loads((REPO_ROOT / "bench" / "results" / "fidelity.json").read_text())
    outcomes = run["outcomes"]
    text = " ".join(BLOCK.text().split())
    assert f"({run['found']} found, {run['run_by_both']} that both executors run)" in text
    assert (f"**{outcomes.get('equal', 0)} equal, {outcomes.get('named', 0)} equal but for a difference named below, "
            f"{outcomes.get('different', 0) or 'none'} different**, and {outcomes.get('error', 0)} that "
            f"fail{'s' if outcomes.get('error', 0) == 1 else ''} on one side only") in text


if __name__ == "__main__":
    BLOCK.show(table())
