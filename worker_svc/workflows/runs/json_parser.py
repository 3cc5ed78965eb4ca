"""What Roboflow's ``roboflow_core/json_parser@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

import json
import re
from typing import Any

_JSON_BLOCK = re.compile(r"```json([\s\S]*?)```", flags=re.IGNORECASE)


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The expected fields of a JSON text (the first ```json block of it, as language models write), each an
    output (None where missing); ``error_status`` when it does not parse or lacks one of them."""
    text = str(p["raw_json"])
    blocks = _JSON_BLOCK.findall(text)
    try:
        parsed = json.loads(blocks[0] if blocks else text)
    except ValueError:
        return {"error_status": True, **dict.fromkeys(p["expected_fields"])}
    if not isinstance(parsed, dict):
        return {"error_status": True, **dict.fromkeys(p["expected_fields"])}
    fields = {name: parsed.get(name) for name in p["expected_fields"]}
    return {"error_status": any(name not in parsed for name in p["expected_fields"]), **fields}
