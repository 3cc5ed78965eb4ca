"""Inside the engine's interpreter only: the kinds of every block's inputs and outputs in Roboflow's current engine,
the fields its manifest requires, whether it runs a model (``runs_models``: it calls the engine's models provider),
and the inputs that take one value for the whole run, never one per image
(``scalar_only``), written as ``shared/workflows/roboflow_kinds.json`` for the built-in compiler, which refuses a
selector whose kinds its parameter does not take, or per-image data in a parameter that takes one value, as Roboflow's
compiler does (and a unit test holds its blocks to requiring every field Roboflow's manifests require).

    .venv-inference/bin/python -m shared.workflows.engine_kinds > shared/workflows/roboflow_kinds.json
"""

from __future__ import annotations

import json
from typing import Any


def _kinds(schema: Any) -> set[str]:
    """Every kind a selector anywhere in a field's JSON schema may carry (a union, lists and dicts of selectors)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found |= {k["name"] if isinstance(k, dict) else str(k) for k in schema.get("kind", [])}
        for value in schema.values():
            if isinstance(value, dict | list):
                found |= _kinds(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _kinds(value)
    return found


def kinds_table() -> dict[str, Any]:
    from shared.workflows.engine_setup import configure_engine, engine_version

    configure_engine()
    from roboflow_workflows.execution_engine.introspection.blocks_loader import describe_available_blocks
    from roboflow_workflows.execution_engine.introspection.schema_parser import parse_block_manifest

    blocks: dict[str, Any] = {}
    for block in describe_available_blocks(dynamic_blocks=[]).blocks:
        schema = block.block_schema
        definitions = schema.get("$defs", {})
        inputs = {}
        for field, field_schema in schema.get("properties", {}).items():
            if field in ("type", "name"):
                continue
            kinds = _kinds(_resolved(field_schema, definitions))
            if kinds:
                inputs[field] = sorted(kinds)
        outputs = {o.name: sorted(k.name for k in o.kind) for o in block.outputs_manifest}
        entry: dict[str, Any] = {"inputs": inputs, "outputs": outputs,
                                 "required": sorted(set(schema.get("required", [])) - {"type", "name"})}
        if _runs_models(block.block_class):
            entry["runs_models"] = True
        if block.manifest_class.accepts_batch_input():
            selectors = parse_block_manifest(block.manifest_class).selectors
            scalar = sorted(name for name, selector in selectors.items()
                            if {b for r in selector.allowed_references for b in r.points_to_batch} == {False})
            if scalar:
                entry["scalar_only"] = scalar
        for name in (block.manifest_type_identifier, *block.manifest_type_identifier_aliases):
            blocks[name] = entry
    return {"engine": engine_version(), "blocks": dict(sorted(blocks.items()))}


def _runs_models(block_class: type) -> bool:
    """Whether the block (or a class it inherits from) calls the models provider: it needs a model to run."""
    import inspect

    for cls in block_class.__mro__:
        if not cls.__module__.startswith("roboflow_workflows"):
            continue
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):
            continue
        if "_model_manager." in source or "load_core_model(" in source:
            return True
    return False


def _resolved(schema: Any, definitions: dict[str, Any], depth: int = 0) -> Any:
    """The schema with its local ``$ref`` s replaced by what they name (a few levels deep)."""
    if depth > 6:
        return schema
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _resolved(definitions.get(ref.rsplit("/", 1)[1], {}), definitions, depth + 1)
        return {k: _resolved(v, definitions, depth + 1) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolved(v, definitions, depth + 1) for v in schema]
    return schema


if __name__ == "__main__":
    print(json.dumps(kinds_table(), indent=0, sort_keys=True))
