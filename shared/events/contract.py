"""The public part of the event contract: JSON Schemas of the events outside consumers may read and of the
webhook bodies Conveyor sends, and what counts as a breaking change to them.

The schemas are generated from the event models and committed (``shared/events/schema/``); a contract test
regenerates them and fails where they differ, and fails a breaking change to an event whose version is kept:
a field removed, a field made required, a field's type changed. Adding an optional field is not breaking
(consumers ignore what they do not know); anything else needs a new version (``…@v2``, a new class).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.events.base import EventBase
from shared.events.topics import REGISTRY
from shared.events.webhooks import WEBHOOK_MODELS


def public_events() -> dict[str, type[EventBase]]:
    """Every event type of a public topic, by its versioned ``type``."""
    found: dict[str, type[EventBase]] = {}
    for spec in REGISTRY.values():
        if spec.public:
            for model in spec.events:
                found[model.model_fields["type"].default] = model
    return dict(sorted(found.items()))


def webhook_payloads() -> dict[str, type[BaseModel]]:
    """Every webhook body Conveyor sends, by its ``type``."""
    return {m.model_fields["type"].default: m for m in WEBHOOK_MODELS}


def event_schema(model: type[BaseModel], kind: str = "events") -> dict[str, Any]:
    """The JSON Schema of an event (or, ``kind="webhooks"``, a webhook body) as it travels
    (``mode="serialization"``: what a consumer reads)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://conveyor.dev/schemas/{kind}/{model.model_fields['type'].default}.json"
    return schema


def schema_file_name(event_type: str) -> str:
    return event_type.replace("@", ".") + ".json"  # job.state-changed@v1 -> job.state-changed.v1.json


def breaking_changes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """How ``new`` breaks consumers written against ``old`` (an empty list: it does not)."""
    found: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            found.append(f"{where}{name}: removed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        found.append(f"{where}{name}: now required")
    for name, before in old_props.items():
        after = new_props.get(name)
        if after is None:
            continue
        if _kind(before) != _kind(after):
            found.append(f"{where}{name}: type {_kind(before)} -> {_kind(after)}")
        elif "const" in before and before.get("const") != after.get("const"):
            found.append(f"{where}{name}: value {before['const']!r} -> {after.get('const')!r}")
        elif "enum" in before and not set(after.get("enum", [])) >= set(before["enum"]):
            found.append(f"{where}{name}: values removed {sorted(set(before['enum']) - set(after['enum']))}")
    for name, definition in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            found += breaking_changes(definition, new["$defs"][name], f"{where}{name}.")
    return found


def _kind(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " | ".join(sorted(_kind(p) for p in prop["anyOf"]))
    if prop.get("type") == "array":
        return f"array of {_kind(prop.get('items', {}))}"
    return str(prop.get("type", "any"))
