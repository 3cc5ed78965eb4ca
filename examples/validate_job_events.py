"""Follow one job's public events with confluent-kafka (librdkafka), and check every message against Conveyor's
published contract: its payload against the event's JSON Schema, its CloudEvents headers, key and correlation id.
No Conveyor code.

    pip install confluent-kafka jsonschema
    python examples/validate_job_events.py --bootstrap localhost:9092 --schemas DIR --workspace-id ID --job JOB

``--schemas``: the folder of the published JSON Schemas (``shared/events/schema/events/`` of a checkout, one
``<type with '@' as '.'>.json`` per public event); ``--workspace-id``: the ``workspaceId`` workspace discovery
(``GET /?api_key=...``) returns, which the events are keyed by. Reads ``<prefix>.jobs.states.v1``,
``<prefix>.jobs.stages.v1`` and ``<prefix>.jobs.progress.v1`` from the start, in a consumer group of its own, prints
one JSON line per event of the job (its type, key, correlation id and CloudEvents attributes) and exits 0 once the
job has ended (and, when it succeeded, its export stage's event and the progress of its last task have come); on the
first message that breaks the contract it prints why and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer
from jsonschema import Draft202012Validator

TERMINAL = {"succeeded", "failed", "aborted"}
TOPICS = ("jobs.states.v1", "jobs.stages.v1", "jobs.progress.v1")


def problems(payload: dict[str, Any], headers: dict[str, str], key: str, validators: dict[str, Any],
             workspace_id: str, job_id: str) -> list[str]:
    """What in one message of the job breaks the contract (nothing: an empty list)."""
    found = [f"payload: {e.message}" for e in validators[payload["type"]].iter_errors(payload)] \
        if payload.get("type") in validators else [f"no published schema for type {payload.get('type')!r}"]
    expected = {"ce_specversion": "1.0", "ce_type": payload.get("type"), "ce_id": payload.get("event_id"),
                "content-type": "application/json", "correlation_id": job_id}
    found += [f"header {name} is {headers.get(name)!r}, not {value!r}" for name, value in expected.items()
              if headers.get(name) != value]
    if not headers.get("ce_source", "").startswith("/conveyor/") or not headers.get("ce_time"):
        found.append(f"ce_source / ce_time missing or wrong: {headers}")
    if key != f"{workspace_id}/{job_id}":
        found.append(f"key {key!r} is not {workspace_id}/{job_id}")
    return found


def follow(bootstrap: str, prefix: str, schemas: Path, workspace_id: str, job_id: str, timeout_s: float) -> int:
    validators = {}
    for path in schemas.glob("*.json"):
        schema = json.loads(path.read_text())
        validators[path.stem.rsplit(".", 1)[0] + "@" + path.stem.rsplit(".", 1)[1]] = Draft202012Validator(schema)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"validate-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([f"{prefix}.{topic}" for topic in TOPICS])
    seen: set[str] = set()
    ended, exported, all_tasks = None, False, False
    deadline = time.monotonic() + timeout_s
    try:
        # the topics are read side by side: a succeeded job's export and last progress may come after its end
        while time.monotonic() < deadline and not (ended and (ended != "succeeded" or (exported and all_tasks))):
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            payload = json.loads(message.value())
            if payload.get("job_id") != job_id:
                continue
            headers = {name: value.decode() for name, value in (message.headers() or [])}
            key = (message.key() or b"").decode()
            wrong = problems(payload, headers, key, validators, workspace_id, job_id)
            if wrong:
                print(json.dumps({"invalid": payload.get("type"), "problems": wrong}), flush=True)
                return 1
            if headers["ce_id"] in seen:  # at least once: a repeat is the same event
                continue
            seen.add(headers["ce_id"])
            print(json.dumps({"type": payload["type"], "key": key, "correlation_id": headers["correlation_id"],
                              "id": headers["ce_id"], "source": headers["ce_source"], "time": headers["ce_time"],
                              "state": payload.get("state")}), flush=True)
            if payload["type"].startswith("job.state-changed") and payload["state"] in TERMINAL:
                ended = payload["state"]
            if payload["type"].startswith("job.export-completed"):
                exported = True
            if payload["type"].startswith("job.progress") and payload["tasks_done"] == payload["tasks_total"]:
                all_tasks = True
    finally:
        consumer.close()
    return 0 if ended else 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", default="conveyor")
    parser.add_argument("--schemas", type=Path, required=True)
    parser.add_argument("--workspace-id", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    sys.exit(follow(args.bootstrap, args.prefix, args.schemas, args.workspace_id, args.job, args.timeout))


if __name__ == "__main__":
    main()
