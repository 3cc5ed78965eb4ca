"""How many real Roboflow Workflow definitions the built-in executor compiles unchanged.

    python -m bench.compat --definitions DIR [DIR ...] [--engine]

Reads every definition found under the directories (``.json`` files holding one, and module-level dict
literals of ``.py`` files that look like a definition: ``version``, ``inputs``, ``steps``, ``outputs``), e.g. a
checkout of roboflow/inference's ``tests/workflows/integration_tests`` and ``docs``. Definitions outside a batch
job's reach are counted apart, with the reason: not exactly one image input, or a block that needs an external
API or weights that cannot be had offline. The rest are compiled by the built-in executor (and with
``--engine`` by Roboflow's Workflows Execution Engine of ``.venv-inference``); prints the share that compiles,
the blocks most often missing, and writes ``bench/results/compat.json``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from shared.config import REPO_ROOT
from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.outline import parse_io

# blocks that call an external service, or need weights no offline install has (foundation models)
_OUT_OF_REACH = re.compile(
    r"(open_?ai|anthropic|claude|gemini|google_vision|stability_ai|llama|openrouter|qwen|kimi|meta_vlm|glm|"
    r"florence|clip|cog_vlm|segment_anything|sam\d|yolo_world|moondream|smolvlm|depth_estimation|easy_ocr|"
    r"perception_encoder|gaze|lmm|spacexai|cosmos|seg_preview|"
    r"dataset_upload|custom_metadata|model_monitoring|vision_events|email|slack|twilio|webhook_sink|s3_sink|"
    r"onvif|visual_search|roboflow_dataset|environment_secrets|local_file_sink|cache_(get|set)|inner_workflow|"
    r"custom_python)", re.IGNORECASE)


def _looks_like_definition(value: Any) -> bool:
    return isinstance(value, dict) and {"inputs", "steps", "outputs"} <= set(value)


_LITERAL = re.compile(r'Literal\[\s*"([^"]+)"')


def plugin_blocks(roots: list[Path]) -> set[str]:
    """Block types defined by the scanned sources themselves (test plugins), not by Roboflow's core blocks."""
    return {name for root in roots for path in root.rglob("*.py")
            for name in _LITERAL.findall(path.read_text(errors="replace")) if not name.startswith("roboflow_core/")}


def definitions(roots: list[Path]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix == ".json":
                try:
                    value = json.loads(path.read_text())
                except (ValueError, UnicodeDecodeError):
                    continue
                value = value.get("specification", value) if isinstance(value, dict) else value
                if _looks_like_definition(value):
                    found[str(path.relative_to(root))] = value
            elif path.suffix == ".py":
                try:
                    tree = ast.parse(path.read_text())
                except (SyntaxError, UnicodeDecodeError):
                    continue
                for node in tree.body:
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                            and isinstance(node.targets[0], ast.Name):
                        try:
                            value = ast.literal_eval(node.value)
                        except (ValueError, SyntaxError, TypeError):
                            continue
                        if _looks_like_definition(value):
                            found[f"{path.relative_to(root)}:{node.targets[0].id}"] = value
    return found


def reach(definition: dict[str, Any], plugins: set[str]) -> str | None:
    """Why a batch job could not run the definition whatever the executor, or None."""
    try:
        parse_io(definition)
    except WorkflowInvalid as exc:
        return f"inputs: {exc}"
    for step in definition.get("steps") or []:
        kind = str(step.get("type", "")) if isinstance(step, dict) else ""
        if _OUT_OF_REACH.search(kind):
            return f"external service or unavailable weights: {kind}"
        if kind in plugins:
            return f"a block of a test plugin, not of Roboflow's core: {kind}"
    return None


def _missing_block(reason: str) -> str | None:
    m = re.search(r"unknown block '([^']+)'", reason)
    return m.group(1) if m else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--definitions", nargs="+", type=Path, required=True)
    parser.add_argument("--engine", action="store_true", help="also compile with Roboflow's engine (slow)")
    args = parser.parse_args()
    found = definitions(args.definitions)
    plugins = plugin_blocks(args.definitions)
    out_of_reach = {name: why for name, d in found.items() if (why := reach(d, plugins))}
    in_reach = {name: d for name, d in found.items() if name not in out_of_reach}
    builtin: dict[str, str | None] = {}
    for name, definition in in_reach.items():
        try:
            compile_workflow(definition)
            builtin[name] = None
        except WorkflowInvalid as exc:
            builtin[name] = str(exc)
    engine: dict[str, str | None] = {}
    if args.engine:
        from shared.workflows.roboflow_engine import check_with_engine

        python = REPO_ROOT / ".venv-inference" / "bin" / "python"
        for name, definition in in_reach.items():
            try:
                check_with_engine(python, definition)
                engine[name] = None
            except WorkflowInvalid as exc:
                engine[name] = str(exc)
    missing = Counter(b for r in builtin.values() if r and (b := _missing_block(r)))
    other = Counter(re.sub(r"'[^']*'", "'…'", r)[:90] for r in builtin.values() if r and not _missing_block(r))
    compiled = sum(1 for r in builtin.values() if r is None)
    print(f"definitions found: {len(found)}; out of a batch job's reach: {len(out_of_reach)}; "
          f"in reach: {len(in_reach)}")
    print(f"built-in executor compiles {compiled} of {len(in_reach)} ({compiled / max(len(in_reach), 1):.0%})")
    if engine:
        ok = sum(1 for r in engine.values() if r is None)
        print(f"Roboflow's engine compiles {ok} of {len(in_reach)} ({ok / max(len(in_reach), 1):.0%})")
    print("blocks the built-in executor lacks, by definitions that use them:")
    for block, count in missing.most_common(15):
        print(f"  {count:4d}  {block}")
    print("other refusals:")
    for reason, count in other.most_common(10):
        print(f"  {count:4d}  {reason}")
    result = {"found": len(found), "out_of_reach": len(out_of_reach), "in_reach": len(in_reach),
              "builtin_compiles": compiled, "engine_compiles": sum(1 for r in engine.values() if r is None)
              if engine else None, "missing_blocks": dict(missing.most_common()), "other_refusals": dict(other),
              "refused": {n: r for n, r in builtin.items() if r}, "out_of_reach_reasons": out_of_reach}
    target = REPO_ROOT / "bench" / "results" / "compat.json"
    target.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"written: {target.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
