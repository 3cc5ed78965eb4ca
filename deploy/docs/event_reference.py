"""The event reference page, written from the committed AsyncAPI document (``python -m deploy.asyncapi`` makes
it from the code): each topic with its key, producer and consumers, the headers of its messages, and each
event's fields. Public topics come first: they are the contract."""

from __future__ import annotations

from typing import Any

from deploy.docs.rest_reference import cell, type_of
from deploy.gateway.asyncapi import document


def page(doc: dict[str, Any] | None = None) -> str:
    doc = doc or document()
    schemas = doc["components"]["schemas"]
    topics: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, channel in sorted(doc["channels"].items()):
        topics.setdefault(channel["address"], []).append((name, channel))
    public = {a: c for a, c in topics.items() if _publisher(c).get("description", "").startswith("PUBLIC")}
    out = ["# Events", "",
           f"{doc['info'].get('description', '').strip()}", "",
           "Generated from the AsyncAPI document the gateway serves at `/asyncapi.json` "
           "([how to consume them](../events.md)). The JSON Schema of each public event is in "
           "`shared/events/schema/events/`.", ""]
    events: set[str] = set()
    for title, chosen in (("Public topics", public), ("Internal topics", {a: c for a, c in topics.items()
                                                                           if a not in public})):
        out += [f"## {title}", ""]
        for address, channels in chosen.items():
            out += _topic(address, channels, doc, events)
    out += ["## Event payloads", ""]
    for name in sorted(_with_referenced(events, schemas)):
        out += _fields(name, schemas[name])
    return "\n".join(out) + "\n"


def _publisher(channels: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return next((c for n, c in channels if n.endswith(":publish")), channels[0][1])


def _topic(address: str, channels: list[tuple[str, dict[str, Any]]], doc: dict[str, Any],
           events: set[str]) -> list[str]:
    publish = _publisher(channels)
    ref = publish["messages"]["Message"]["$ref"].rsplit("/", 1)[-1]
    message = doc["components"]["messages"][ref]
    named = message["payload"]["$ref"].rsplit("/", 1)[-1]
    # a topic of several events has a union for its payload; a topic of one, the event itself
    kinds = [s["$ref"].rsplit("/", 1)[-1] for s in doc["components"]["schemas"][named].get("oneOf", [])] or [named]
    events.update(kinds)
    key = message.get("bindings", {}).get("kafka", {}).get("key", {}).get("description", "")
    consumers = [c.get("description", "") for n, c in channels if not n.endswith(":publish")]
    lines = [f"### `{address}`", "", cell(publish.get("description", "")), "",
             f"- **Key**: {cell(key)}" if key else "- **Key**: none",
             "- **Events**: " + ", ".join(f"[{k}](#{k.lower()})" for k in kinds)]
    lines += [f"- **Consumer**: {cell(c)}" for c in consumers] or ["- **Consumer**: none in Conveyor"]
    headers = message.get("headers", {})
    if headers.get("properties"):
        required = set(headers.get("required", []))
        lines += ["", "| header | always | meaning |", "|---|---|---|"]
        lines += [f"| `{h}` | {'yes' if h in required else ''} | {cell(spec.get('description', ''))} |"
                  for h, spec in headers["properties"].items()]
    return [*lines, ""]


def _fields(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [cell(schema["description"]), ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | description |", "|---|---|---|---|"]
    lines += [f"| `{field}` | {type_of(spec)} | {'yes' if field in required else ''} "
              f"| {cell(spec.get('description', ''))} |" for field, spec in schema.get("properties", {}).items()]
    return [*lines, ""]


def _with_referenced(names: set[str], schemas: dict[str, Any]) -> set[str]:
    """The schemas named and every schema they refer to, however deep (a payload's nested objects)."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending += _refs(schemas[name])
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"].rsplit("/", 1)[-1]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []
