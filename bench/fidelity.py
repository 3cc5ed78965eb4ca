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

import cv2
import numpy as np

from bench.compat import definitions, plugin_blocks, reach
from bench.fidelity_compare import Difference, compare
from bench.fidelity_models import ModelKit
from bench.fidelity_named import NAMED, as_row, names
from scheduler_svc.default_model import sample_photos
from shared.config import REPO_ROOT
from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.model_steps import model_steps
from worker_svc.workflows.engine_client import EngineHost
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import EncodedImage, Image, serialize

RESULTS = REPO_ROOT / "bench" / "results" / "fidelity.json"
DEFAULT_IMAGES = ("bus.jpg", "zidane.jpg")
# values for workflow parameters a definition leaves without a default (Roboflow's tests pass them at run time)
FILLERS: dict[str, Any] = {"confidence": 0.4, "iou_threshold": 0.3, "classes": ["person", "car", "bus"],
                           "class_filter": ["person", "bus"], "threshold": 0.5, "reference": 1}


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


def sample_images(names: list[str] | tuple[str, ...] = DEFAULT_IMAGES) -> dict[str, np.ndarray]:
    """The photos that ship with the default model, decoded (BGR)."""
    found: dict[str, np.ndarray] = {}
    for path in sample_photos():
        if path.name in names:
            pixels = cv2.imread(str(path))
            if pixels is None:
                raise ValueError(f"cannot decode {path}")
            found[path.name] = pixels
    return found


def blocks_of(spec: dict[str, Any]) -> list[str]:
    return sorted({str(s.get("type")) for s in spec.get("steps", []) if isinstance(s, dict)})


def parameters_for(spec: dict[str, Any], kit: ModelKit) -> dict[str, Any] | str:
    """Values for the inputs without a default, or why the definition cannot be given them."""
    values: dict[str, Any] = {}
    model_inputs = {str(s["model_id"]).split(".", 1)[1]: s for s in spec.get("steps", [])
                    if isinstance(s, dict) and str(s.get("model_id", "")).startswith("$inputs.")}
    for item in spec.get("inputs", []):
        name = item.get("name")
        if item.get("type") in ("WorkflowImage", "InferenceImage") or "default_value" in item:
            continue
        if name in model_inputs:
            values[name] = kit.id_for(str(model_inputs[name].get("type")))
        elif name in FILLERS:
            values[name] = FILLERS[name]
        else:
            return f"needs a value for the input {name!r}, which it gives no default"
    return values


def as_pixels(value: Any) -> Any:
    """The built-in executor's images as pixels (what the engine's come back as, once decoded)."""
    if isinstance(value, Image):
        return value.array
    if isinstance(value, EncodedImage):
        return cv2.imdecode(np.frombuffer(value.data, np.uint8), cv2.IMREAD_COLOR)
    return None


def exported(value: Any) -> Any:
    """The built-in executor's value as the worker writes it to the results (JSON, anything else as text)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, dict):
        return {k: exported(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exported(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def engine_side(value: Any) -> Any:
    if isinstance(value, EncodedImage):
        return as_pixels(value)
    if isinstance(value, dict):
        return {k: engine_side(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_side(v) for v in value]
    return value


def judge(name: str, spec: dict[str, Any], images: dict[str, np.ndarray], kit: ModelKit, host: EngineHost, *,
          keep: bool = False) -> Verdict:
    verdict = Verdict(name, "skipped", blocks=blocks_of(spec))
    parameters = parameters_for(spec, kit)
    if isinstance(parameters, str):
        verdict.reason = parameters
        return verdict
    try:
        steps = model_steps(spec, parameters)
        compiled = compile_workflow(spec)
    except WorkflowInvalid as exc:
        verdict.reason = f"the built-in executor refuses it: {exc}"
        return verdict
    try:
        models = kit.models_for(steps)
    except ValueError as exc:
        verdict.reason = str(exc)
        return verdict
    try:
        engine = host.load(spec, kit.files_for(steps))
    except WorkflowInvalid as exc:
        verdict.reason = str(exc)
        return verdict
    builtin = WorkflowRunner(compiled, kit.loaded(models), parameters)
    found: list[Difference] = []
    for image_name, pixels in images.items():
        errors = []
        try:
            ours = exported(serialize(builtin.run(pixels.copy(), image_name), on_image=as_pixels))
        except Exception as exc:  # a block failing is a result to report, whichever it is
            errors.append(f"the built-in executor failed on {image_name}: {exc}")
        try:
            theirs = engine_side(engine.run(pixels, parameters, image_name))
        except Exception as exc:
            errors.append(f"Roboflow's engine failed on {image_name}: {exc}")
        if len(errors) == 2:
            continue  # both refuse this image: the same answer
        if errors:
            verdict.outcome, verdict.reason = "error", errors[0]
            return verdict
        found += [dataclasses.replace(d, path=f"{image_name}{d.path}") for d in compare(ours, theirs)]
        if keep:
            verdict.answers[image_name] = (ours, theirs)
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
