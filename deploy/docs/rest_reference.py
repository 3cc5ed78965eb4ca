"""The REST API reference page, written from the OpenAPI documents of the services behind the gateway.

Each service's FastAPI app is made (nothing connects: the connections are opened by its lifespan, which never
runs here) and its document read; a path is listed under the service the gateway routes it to, so the page shows
exactly what ``API_BASE_URL`` answers."""

from __future__ import annotations

import importlib
import os
from typing import Any

from deploy.gateway.app import Upstreams, route

# (service, the section's title) in the order a user meets them
SERVICES = (("ingest", "Data staging"), ("scheduler", "Batch processing, workflows and models"),
            ("notifier", "Webhook deliveries"))
_METHODS = ("get", "post", "put", "patch", "delete")


def documents() -> dict[str, dict[str, Any]]:
    """Each public service's OpenAPI document, from its app as the service makes it."""
    # the apps refuse to be made without a signing secret; this one signs nothing, as nothing is served
    os.environ.setdefault("CONVEYOR_SIGNING_SECRET", "placeholder-for-reading-the-openapi-documents")
    return {name: importlib.import_module(f"{name}_svc.app").create_app().openapi() for name, _ in SERVICES}


def page(docs: dict[str, dict[str, Any]]) -> str:
    upstreams = Upstreams(**{name: name for name in ("ingest", "scheduler", "export", "notifier", "worker")})
    out = ["# REST API", "",
           "Every path below is served at the gateway's address (`API_BASE_URL`, `http://127.0.0.1:8000` locally) "
           "and asks for a workspace API key: `?api_key=<key>` as Roboflow's clients send it, or "
           "`Authorization: Bearer <key>` ([Authentication](../authentication.md)). A refusal is JSON with "
           "`error` and `message`. This page is generated from the services' OpenAPI documents when the site "
           "is built.", ""]
    schemas: dict[str, Any] = {}
    for name, title in SERVICES:
        doc = docs[name]
        schemas.update(doc.get("components", {}).get("schemas", {}))
        out += [f"## {title}", ""]
        for path, item in doc["paths"].items():
            if route(path, upstreams) != name:
                continue
            for method in _METHODS:
                if method in item:
                    out += _operation(method, path, item[method])
    out += ["## Schemas", ""]
    for schema_name in sorted(schemas):
        out += _schema(schema_name, schemas[schema_name])
    return "\n".join(out) + "\n"


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        lines += [op["summary"], ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    # the key's two places are said once, at the top of the page
    params = [p for p in op.get("parameters", []) if p["name"] not in ("api_key", "authorization")]
    if params:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        lines += [f"| `{p['name']}` | {p['in']} | {type_of(p.get('schema', {}))} "
                  f"| {'yes' if p.get('required') else ''} "
                  f"| {cell(p.get('description') or p.get('schema', {}).get('description', ''))} |" for p in params]
        lines.append("")
    body = op.get("requestBody")
    if body:
        kinds = ", ".join(f"`{kind}` {type_of(media.get('schema', {}))}" for kind, media in body["content"].items())
        lines += [f"Body{' (required)' if body.get('required') else ''}: {kinds}", ""]
    answers = op.get("responses", {})
    if answers:
        lines += ["| status | answer |", "|---|---|"]
        for status, answer in answers.items():
            content = answer.get("content", {}).get("application/json", {}).get("schema")
            shape = f" — {type_of(content)}" if content else ""
            lines.append(f"| {status} | {cell(answer.get('description', ''))}{shape} |")
        lines.append("")
    return lines


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [cell(schema["description"]), ""]
    if "enum" in schema:
        return [*lines, "One of " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        lines += [f"| `{field}` | {type_of(spec)} | {'yes' if field in required else ''} "
                  f"| {cell(spec.get('description', ''))} |" for field, spec in props.items()]
        lines.append("")
    return lines


def type_of(schema: dict[str, Any]) -> str:
    """A schema as a short type: a link for a named schema, ``a | b`` for a union, ``[item]`` for a list."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return " \\| ".join(type_of(s) for s in schema[union])
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"[{type_of(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'])}"
    return str(kind) if kind else "any"


def cell(text: str) -> str:
    """Text as one Markdown table cell (or line): whitespace folded, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")
