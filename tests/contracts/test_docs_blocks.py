"""The docs' block matrix: every roboflow_core block of the current Roboflow release (``roboflow_blocks.txt``),
with the versions the built-in executor and the engine backend run, and why a block is not run. Generated from
the built-in catalogue, so it cannot drift: ``python -m tests.contracts.test_docs_blocks`` prints it."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from bench.definitions import OUT_OF_REACH
from shared.workflows.catalogue import BY_TYPE
from shared.workflows.outline import BLOCKED
from tests.contracts.generated import Block

BLOCKS = Path(__file__).with_name("roboflow_blocks.txt")
BLOCK = Block("blocks", "tests/contracts/test_docs_blocks.py", "docs/workflows.md")
_VIDEO = re.compile(r"(track|line_counter|time_in_zone|velocity|path_deviation|smoothing|stabilize|frame_delay|"
                    r"delta_filter|rate_limiter|identify_changes|identify_outliers|motion_detection|"
                    r"background_subtraction|trace_visualization|buffer|detection_event_log|data_aggregator|"
                    r"current_time)")


def _versions(versions: list[int]) -> str:
    return ", ".join(f"v{v}" for v in sorted(versions)) or "—"


def _why(name: str, versions: dict[str, list[int]]) -> str:
    types = [f"roboflow_core/{name}@v{v}" for v in versions["all"]]
    blocked = next((BLOCKED[t] for t in types if t in BLOCKED), None)
    if blocked:
        return f"refused: {blocked}"
    missing = sorted(set(versions["all"]) - set(versions["builtin"]))
    if not missing:
        return ""
    if versions["builtin"]:
        return f"{_versions(missing)} not yet built in"
    if OUT_OF_REACH.search(name):
        return "calls an external service or needs weights that cannot be had offline"
    if _VIDEO.search(name):
        return "video: keeps state across frames (not yet built in)"
    return "not yet built in"


def matrix() -> str:
    families: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"all": [], "builtin": [], "engine": []})
    for line in BLOCKS.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        block, *marks = line.split()
        name, version = block.removeprefix("roboflow_core/").rsplit("@v", 1)
        family = families[name]
        family["all"].append(int(version))
        if block in BY_TYPE:
            family["builtin"].append(int(version))
        if "engine" in marks and block not in BLOCKED:
            family["engine"].append(int(version))
    rows = ["| block | versions | built-in | engine backend | why not |", "|---|---|---|---|---|"]
    for name in sorted(families):
        f = families[name]
        rows.append(f"| `{name}` | {_versions(f['all'])} | {_versions(f['builtin'])} | {_versions(f['engine'])} | "
                    f"{_why(name, f)} |")
    built = sum(1 for f in families.values() if f["builtin"])
    engine = sum(1 for f in families.values() if f["engine"])
    summary = (f"{len(families)} blocks ({sum(len(f['all']) for f in families.values())} versions): the built-in "
               f"executor runs {built}, the engine backend {engine}.")
    return "\n".join([summary, "", *rows])


def test_the_readme_lists_every_roboflow_block_with_what_runs_it() -> None:
    BLOCK.check(matrix())


def test_every_built_in_type_is_a_roboflow_type_or_a_legacy_name() -> None:
    """A built-in type name that Roboflow does not have would compile definitions Roboflow refuses."""
    known = {line.split()[0] for line in BLOCKS.read_text().splitlines() if line and not line.startswith("#")}
    invented = [t for t in BY_TYPE if t.startswith("roboflow_core/") and t not in known]
    assert not invented, invented


if __name__ == "__main__":
    BLOCK.show(matrix())
