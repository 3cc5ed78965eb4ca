"""How far real Roboflow Workflow definitions get here, unchanged: saved, a job created, every file processed, and
Roboflow's answer given — on the built-in executor alone, and on the built-in executor with Roboflow's engine.

    python -m bench.compat --definitions DIR [DIR ...] [--images bus.jpg zidane.jpg]

Every definition with one image input found under the directories (``bench.definitions``; e.g. a checkout of
roboflow/inference's ``tests/workflows`` and ``docs``) is taken through each executor as a user would
(``bench.compat_runs``). A definition that calls an external service or needs weights no offline install has (or a
block of Roboflow's test plugins) is saved and checked as a job, but not run. The built-in executor's answer counts
as Roboflow's when ``bench.fidelity`` finds it equal (or equal but for a difference named in the README) to the
engine's on the same photos and models; the engine's answer is Roboflow's by construction (it is Roboflow's engine,
given the registered models). Prints the table and the most frequent reasons a definition gets no further, and
writes ``bench/results/compat.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.compat_runs import DEFAULT_IMAGES, STAGES, Side, builtin_way, engine_way, sample_images
from bench.definitions import definitions, plugin_blocks, reach
from bench.fidelity import Verdict, blocks_of, compared
from bench.fidelity_models import ModelKit
from shared.config import REPO_ROOT
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.outline import parse_io
from worker_svc.workflows.engine_client import EngineHost

RESULTS = REPO_ROOT / "bench" / "results" / "compat.json"
ROWS = {"saved": "saved unchanged", "job-valid": "a job created", "processed": "every file processed",
        "equal": "Roboflow's answer"}
COLUMNS = {"builtin": "built-in executor", "either": "built-in + Roboflow's engine"}


def way(name: str, spec: dict[str, Any], kit: ModelKit, host: EngineHost, images: Any,
        not_run: str | None) -> dict[str, Any]:
    """Both executors' ways through one definition, and whether each gives Roboflow's answer."""
    ours = builtin_way(spec, kit, images, run=not_run is None)
    theirs = engine_way(spec, kit, host, images, run=not_run is None)
    for side in (ours, theirs):
        if not_run and side.stage == "job-valid":
            side.reason = f"not run here: {not_run}"
    equal = None
    if ours.stage == theirs.stage == "processed":
        equal = compared(Verdict(name, "skipped", blocks=blocks_of(spec)), ours, theirs).outcome in ("equal", "named")
    # the API saves a definition on the engine only where the built-in executor lacks a block (a definition it
    # refuses for a fault, e.g. a selector to nothing, is refused whatever the engine says: scheduler_svc.registry)
    offered = ours.stage != "refused" or ours.lacks
    return {"name": name, "builtin": _summary(ours), "engine": _summary(theirs), "builtin_equal": equal,
            "engine_offered": offered}


def _summary(side: Side) -> dict[str, str]:
    return {"stage": side.stage, **({"reason": side.reason[:400]} if side.reason else {})}


def reached(record: dict[str, Any], column: str, row: str) -> bool:
    ours = record["builtin"]["stage"]
    theirs = record["engine"]["stage"]
    engine = column == "either" and record["engine_offered"]
    if row == "equal":
        return bool(record["builtin_equal"]) or (engine and theirs == "processed")
    return STAGES.index(ours) >= STAGES.index(row) or (engine and STAGES.index(theirs) >= STAGES.index(row))


def table(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {row: {column: sum(reached(r, column, row) for r in records) for column in COLUMNS} for row in ROWS}


def markdown(counts: dict[str, dict[str, int]], total: int) -> str:
    lines = [f"| of {total} definitions with one image input | " + " | ".join(COLUMNS.values()) + " |",
             "|---|" + "---:|" * len(COLUMNS)]
    for row, label in ROWS.items():
        cells = [f"{counts[row][c]} ({counts[row][c] / max(total, 1):.0%})" for c in COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _stopped(records: list[dict[str, Any]], side: str) -> Counter[str]:
    """Why definitions stop on one executor: the first stage missed, with its reason shortened."""
    reasons: Counter[str] = Counter()
    for r in records:
        stage = r[side]["stage"]
        if stage != "processed":
            missed = STAGES[STAGES.index(stage) + 1]
            reason = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", r[side].get("reason", ""))[:110]
            reasons[f"{ROWS[missed]}: {reason}"] += 1
    return reasons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--definitions", nargs="+", type=Path, required=True)
    parser.add_argument("--images", nargs="+", default=list(DEFAULT_IMAGES))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.monotonic()
    found = definitions(args.definitions)
    plugins = plugin_blocks(args.definitions)
    single = {name: spec for name, spec in found.items() if _one_image(spec)}
    images = sample_images(args.images)
    records = []
    host = EngineHost(REPO_ROOT / ".venv-inference" / "bin" / "python")
    try:
        with ModelKit.temporary() as kit:
            for name, spec in single.items():
                records.append(way(name, spec, kit, host, images, reach(spec, plugins)))
    finally:
        host.close()
    counts = table(records)
    print(f"definitions found: {len(found)}; with one image input: {len(single)}; images: {', '.join(images)}\n")
    print(markdown(counts, len(single)))
    for side, label in (("builtin", "the built-in executor"), ("engine", "Roboflow's engine")):
        print(f"\nwhere definitions stop on {label}:")
        for reason, count in _stopped(records, side).most_common(12):
            print(f"  {count:4d}  {reason}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"found": len(found), "one_image_input": len(single), "images": list(images),
                                    "table": counts, "seconds": round(time.monotonic() - started),
                                    "definitions": records}, indent=1) + "\n")
    print(f"\nwritten: {args.out.relative_to(REPO_ROOT) if args.out.is_relative_to(REPO_ROOT) else args.out}")


def _one_image(spec: dict[str, Any]) -> bool:
    try:
        parse_io(spec)
        return True
    except WorkflowInvalid:
        return False


if __name__ == "__main__":
    main()
