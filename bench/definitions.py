"""Roboflow Workflow definitions found in source trees (e.g. a checkout of roboflow/inference's ``tests/workflows``
and ``docs``): ``.json`` files holding one, and module-level dict literals of ``.py`` files that look like one
(``inputs``, ``steps``, ``outputs``), and why a batch job could not run one here whatever the executor."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from shared.workflows.errors import WorkflowInvalid
from shared.workflows.outline import parse_io

# blocks that call an external service, or need weights no offline install has (foundation models)
OUT_OF_REACH = re.compile(
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
        if OUT_OF_REACH.search(kind):
            return f"external service or unavailable weights: {kind}"
        if kind in plugins:
            return f"a block of a test plugin, not of Roboflow's core: {kind}"
    return None
