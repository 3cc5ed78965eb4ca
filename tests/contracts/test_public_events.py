"""The published event contract: the committed AsyncAPI document and JSON Schemas are what the code says, and a
public event never changes incompatibly under the same version."""

import json
import subprocess

import pytest

from deploy.asyncapi import SCHEMA_DIR, generated_files
from shared.config import REPO_ROOT
from shared.events import REGISTRY
from shared.events.contract import (
    breaking_changes,
    event_schema,
    public_events,
    schema_file_name,
    webhook_payloads,
)


def test_the_committed_asyncapi_document_and_schemas_are_current() -> None:
    generated = generated_files()
    committed = {str(p.relative_to(SCHEMA_DIR)): p.read_text() for p in SCHEMA_DIR.rglob("*.json")}
    stale = sorted(name for name in generated.keys() | committed.keys() if generated.get(name) != committed.get(name))
    assert not stale, f"{stale} differ from the code: run .venv/bin/python -m deploy.asyncapi and commit them"


def test_the_document_names_every_topic_its_producers_and_its_real_consumers() -> None:
    document = json.loads((SCHEMA_DIR / "asyncapi.json").read_text())
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    for topic, spec in REGISTRY.items():
        assert f"{topic.value}:publish" in channels
        consumers = {name.split(":")[1] for name in channels if name.startswith(f"{topic.value}:")} - {"publish"}
        assert consumers == {c.removesuffix("_svc") for c in spec.consumers}, topic
        publish = channels[f"{topic.value}:publish"]
        assert publish["address"] == f"conveyor.{topic.value}.v{spec.schema_version}"
        assert publish["description"].startswith("PUBLIC" if spec.public else "internal"), topic
    assert {"JobStateChangedV1", "ShardReadyV1", "ProcessingCompletedV1", "ExportCompletedV1",
            "StageCompleteV1"} <= set(document["components"]["schemas"])


def _first_published(path: str) -> str | None:
    """The file as the commit that added it had it: the contract its version promised."""
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", path], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    if not added:
        return None  # new in this change: nothing published to break
    return subprocess.run(["git", "show", f"{added[-1]}:{path}"], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("event_type", list(public_events()))
def test_a_public_event_changes_only_compatibly_within_its_version(event_type: str) -> None:
    path = f"shared/events/schema/events/{schema_file_name(event_type)}"
    first = _first_published(path)
    if first is not None:
        broken = breaking_changes(json.loads(first), event_schema(public_events()[event_type]))
        assert not broken, f"{event_type} breaks its published schema ({broken}): add a new version instead"


@pytest.mark.parametrize("payload_type", list(webhook_payloads()))
def test_a_webhook_body_changes_only_compatibly_within_its_version(payload_type: str) -> None:
    first = _first_published(f"shared/events/schema/webhooks/{payload_type}.json")
    if first is not None:
        broken = breaking_changes(json.loads(first), event_schema(webhook_payloads()[payload_type], "webhooks"))
        assert not broken, f"{payload_type} breaks its published schema ({broken}): add a -v2 payload instead"


BASE = {"type": "object", "required": ["type", "job_id"],
        "properties": {"type": {"const": "x@v1", "type": "string"}, "job_id": {"type": "string"},
                       "state": {"enum": ["a", "b"], "type": "string"},
                       "reason": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}


def _changed(**props: object) -> dict:
    schema = json.loads(json.dumps(BASE))
    for name, value in props.items():
        if value is None:
            del schema["properties"][name]
        else:
            schema["properties"][name] = value
    return schema


def test_what_counts_as_breaking() -> None:
    assert breaking_changes(BASE, BASE) == []
    assert breaking_changes(BASE, _changed(extra={"type": "integer"})) == []  # an optional field added
    assert breaking_changes(BASE, _changed(state={"enum": ["a", "b", "c"], "type": "string"})) == []
    assert breaking_changes(BASE, _changed(reason=None)) == ["reason: removed"]
    assert breaking_changes(BASE, _changed(job_id={"type": "integer"})) == ["job_id: type string -> integer"]
    assert breaking_changes(BASE, _changed(state={"enum": ["a"], "type": "string"})) == [
        "state: values removed ['b']"]
    assert breaking_changes(BASE, _changed(type={"const": "x@v2", "type": "string"})) == [
        "type: value 'x@v1' -> 'x@v2'"]
    required = json.loads(json.dumps(BASE))
    required["required"].append("reason")
    assert breaking_changes(BASE, required) == ["reason: now required"]


def test_every_message_declares_its_headers_and_its_key() -> None:
    """A consumer reads from the AsyncAPI document what each message carries besides its payload: the CloudEvents
    headers and correlation id (a headers schema) and how it is keyed (a Kafka message binding)."""
    document = json.loads((SCHEMA_DIR / "asyncapi.json").read_text())
    messages = document["components"]["messages"]
    assert messages
    for name, message in messages.items():
        required = set(message["headers"]["required"])
        assert {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "correlation_id"} <= required, name
        assert message["correlationId"]["location"] == "$message.header#/correlation_id"
        key = message["bindings"]["kafka"]["key"]["description"]
        topic = name.split(":", 1)[0]
        expected = "<worker_id>" if topic == "workers.liveness" else "<workspace_id>/"
        assert key.startswith(expected), (name, key)
    public = {name.split(":", 1)[0]: m["bindings"]["kafka"]["key"]["description"].split(":", 1)[0]
              for name, m in messages.items() if name.startswith(("jobs.", "ingest."))}
    assert public == {"jobs.states": "<workspace_id>/<job_id>", "jobs.stages": "<workspace_id>/<job_id>",
                      "jobs.progress": "<workspace_id>/<job_id>", "ingest.shards": "<workspace_id>/<batch_id>"}
