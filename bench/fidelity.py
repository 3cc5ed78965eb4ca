"""Does the built-in executor give Roboflow's answers? Every definition both executors run, compared output for output.

    python -m bench.fidelity --definitions DIR [DIR ...] [--images bus.jpg zidane.jpg] [--only TEXT]

Reads definitions as ``bench.compat`` does (e.g. a checkout of roboflow/inference's ``tests/workflows`` and
``docs``). Each one a batch job could run is compiled by the built-in executor and by Roboflow's engine
(``.venv-inference``, ``deploy/local/inference-venv.sh``); each that both accept runs on the same photos through
both, with the same registered models: every Roboflow model id maps to a model of the task its block runs (the
default YOLOv4-tiny COCO detector, and tiny generated ONNX graphs of the exact segmentation, keypoint and
classification layouts), fed to the built-in executor directly and to the engine through its models provider.
Outputs are compared by ``bench.fidelity_compare``. Prints equal / different per definition and per block, and
writes ``bench/results/fidelity.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.compat_runs import DEFAULT_IMAGES, Side, builtin_way, engine_way, sample_images
from bench.definitions import definitions, plugin_blocks, reach
from bench.fidelity_compare import Difference, compare
from bench.fidelity_models import ModelKit
from bench.fidelity_named import NAMED, as_row, names
from shared.config import REPO_ROOT
from worker_svc.workflows.engine_client import EngineHost

RESULTS = REPO_ROOT / "bench" / "results" / "fidelity.json"


@dataclass
class Verdict:
    name: str
    outcome: str  # equal | named (equal but for differences kept on purpose) | different | error | skipped
    reason: str = ""
    blocks: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)
    # per image: (the built-in executor's answer, the engine's), when asked to keep them
    answers: dict[str, tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "answers"}


def blocks_of(spec: dict[str, Any]) -> list[str]:
    return sorted({str(s.get("type")) for s in spec.get("steps", []) if isinstance(s, dict)})


def judge(name: str, spec: dict[str, Any], images: dict[str, np.ndarray], kit: ModelKit, host: EngineHost, *,
          keep: bool = False) -> Verdict:
    verdict = Verdict(name, "skipped", blocks=blocks_of(spec))
    ours = builtin_way(spec, kit, images, run=False)
    if not ours.reached("job-valid"):
        verdict.reason = f"the built-in executor refuses it: {ours.reason}" if ours.stage == "refused" \
            else ours.reason
        return verdict
    theirs = engine_way(spec, kit, host, images, run=False)
    if not theirs.reached("job-valid"):
        verdict.reason = theirs.reason
        return verdict
    return compared(verdict, builtin_way(spec, kit, images), engine_way(spec, kit, host, images), keep=keep)


def compared(verdict: Verdict, ours: Side, theirs: Side, *, keep: bool = False) -> Verdict:
    """The verdict on two runs over the same images: an image both failed on is the same answer; one side failing
    on an image is an error."""
    found: list[Difference] = []
    for image_name in sorted(ours.answers.keys() | ours.failures.keys()):
        failed = [side.failures[image_name] for side in (ours, theirs) if image_name in side.failures]
        if len(failed) == 2:
            continue
        if failed:
            verdict.outcome, verdict.reason = "error", failed[0]
            return verdict
        found += [dataclasses.replace(d, path=f"{image_name}{d.path}")
                  for d in compare(ours.answers[image_name], theirs.answers[image_name])]
        if keep:
            verdict.answers[image_name] = (ours.answers[image_name], theirs.answers[image_name])
    named, rest = names(found, verdict.blocks)
    verdict.outcome = "different" if rest else "named" if named else "equal"
    verdict.named = sorted(named)
    verdict.differences = [str(d) for d in rest[:20]]
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--definitions", nargs="+", type=Path, required=True)
    parser.add_argument("--images", nargs="+", default=list(DEFAULT_IMAGES))
    parser.add_argument("--only", help="only definitions whose name contains this")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    found = definitions(args.definitions)
    plugins = plugin_blocks(args.definitions)
    images = sample_images(args.images)
    verdicts: list[Verdict] = []
    started = time.monotonic()
    host = EngineHost(REPO_ROOT / ".venv-inference" / "bin" / "python")
    try:
        with ModelKit.temporary() as kit:
            for name, spec in found.items():
                if args.only and args.only not in name:
                    continue
                why = reach(spec, plugins)
                if why:
                    verdicts.append(Verdict(name, "skipped", why, blocks_of(spec)))
                    continue
                verdict = judge(name, spec, images, kit, host)
                verdicts.append(verdict)
                print(f"{verdict.outcome:9s} {name}" + (f"  ({verdict.reason[:140]})" if verdict.reason else "")
                      + (f"  [{', '.join(verdict.named)}]" if verdict.named else ""), flush=True)
                for line in verdict.differences[:3]:
                    print(f"          {line[:160]}")
    finally:
        host.close()
    report(verdicts, found, args.out, time.monotonic() - started)


def report(verdicts: list[Verdict], found: dict[str, Any], out: Path, seconds: float) -> None:
    outcomes = Counter(v.outcome for v in verdicts)
    ran_outcomes = ("equal", "named", "different", "error")
    per_block: dict[str, Counter[str]] = defaultdict(Counter)
    for v in verdicts:
        if v.outcome in ran_outcomes:
            for block in v.blocks:
                per_block[block][v.outcome] += 1
    ran = sum(outcomes[o] for o in ran_outcomes)
    print(f"\ndefinitions found: {len(found)}; run by both executors: {ran}; equal: {outcomes['equal']}; "
          f"equal but for a named difference: {outcomes['named']}; different: {outcomes['different']}; "
          f"failed on one side only: {outcomes['error']}; not run by both: {outcomes['skipped']}  ({seconds:.0f} s)")
    print("per block (definitions equal / named / different / failed on one side):")
    for block in sorted(per_block):
        c = per_block[block]
        print(f"  {c['equal']:3d} {c['named']:3d} {c['different']:3d} {c['error']:3d}  {block}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "found": len(found), "run_by_both": ran, "outcomes": dict(outcomes),
        "named_differences": [as_row(n) for n in NAMED],
        "per_block": {b: dict(c) for b, c in sorted(per_block.items())},
        "definitions": [v.summary() for v in verdicts]}, indent=1) + "\n")
    print(f"wrote {out}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
