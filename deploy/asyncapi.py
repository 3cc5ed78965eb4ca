"""The AsyncAPI 3 document of Conveyor's Kafka topics and the JSON Schemas of its public events and webhook
bodies, from the code.

    .venv/bin/python -m deploy.asyncapi      # writes shared/events/schema/ (committed; CI checks it is current)

FastStream generates the document from declared publishers and subscribers: a publisher per topic of the
registry (``shared.events.topics``, with its payload models and producers) and a subscriber per consumer group
that the services really subscribe (built by their composition roots' ``subscribers.build``, as at run time).
The gateway serves it at ``/asyncapi`` (rendered) and ``/asyncapi.json``.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from export_svc import subscribers as export_subscribers
from notifier_svc import subscribers as notifier_subscribers
from notifier_svc.config import NotifierSettings
from scheduler_svc import subscribers as scheduler_subscribers
from shared.broker import BROADCAST, Subscriptions
from shared.config import ServiceSettings
from shared.events import REGISTRY, Topic, topic_name
from shared.events.contract import event_schema, public_events, schema_file_name, webhook_payloads
from worker_svc import subscribers as worker_subscribers
from worker_svc.config import WorkerSettings
from worker_svc.stops import StoppedJobs

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "shared" / "events" / "schema"
VERSION = "1"  # of the document; each topic and event carries its own version


def service_subscriptions() -> dict[str, list[Subscriptions]]:
    """Every service's subscriptions, built as its composition root builds them (the handlers never run)."""
    res = SimpleNamespace(settings=ServiceSettings(), pool=None, store=None)
    return {
        "ingest_svc": [],  # ingest consumes nothing
        "scheduler_svc": [scheduler_subscribers.build(res, None)],  # type: ignore[arg-type]
        "worker_svc": [worker_subscribers.build(res, WorkerSettings(machine_type=m), None,  # type: ignore[arg-type]
                                                StoppedJobs()) for m in ("cpu", "gpu")],
        "export_svc": [export_subscribers.build(res, None)],  # type: ignore[arg-type]
        "notifier_svc": [notifier_subscribers.build(res, NotifierSettings(), lambda: None)],  # type: ignore[arg-type]
    }


def _summary(topic: Topic) -> str:
    spec = REGISTRY[topic]
    kinds = "; ".join(f"{m.model_fields['type'].default}: {(m.__doc__ or '').strip().splitlines()[0]}"
                      for m in spec.events)
    audience = "PUBLIC (a stable contract for consumers outside Conveyor)" if spec.public else (
        "internal (may change without notice)")
    return f"{audience}. Key: {spec.key}. Produced by {', '.join(spec.producers)}. {kinds}"


def _typed_handler(payload: Any) -> Any:
    async def handler(event: Any) -> None:
        return None

    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=payload)],
        return_annotation=None)
    return handler


def build_document() -> dict[str, Any]:
    prefix = ServiceSettings().kafka.topic_prefix
    broker = KafkaBroker("kafka:9092")  # described, never connected
    for spec in REGISTRY.values():
        broker.publisher(topic_name(prefix, spec.topic), schema=spec.payload, title=f"{spec.topic.value}:publish",
                         description=_summary(spec.topic))
    seen: set[tuple[Topic, str, str]] = set()
    for service, subscriptions in service_subscriptions().items():
        for subs in subscriptions:
            for topic, group in subs.subscribed:
                if (topic, service, group) in seen:
                    continue
                seen.add((topic, service, group))
                who = "every process, no group" if group == BROADCAST else f"group {group}"
                broker.subscriber(topic_name(prefix, topic), group_id=None if group == BROADCAST else group,
                                  title=f"{topic.value}:{service.removesuffix('_svc')}",
                                  description=f"{service} consumes it ({who}).",
                                  )(_typed_handler(REGISTRY[topic].payload))
    public = ", ".join(f"{t.value}" for t, s in REGISTRY.items() if s.public)
    document = AsyncAPI(
        broker, title="Conveyor events", version=VERSION, schema_version="3.0.0",
        description=(f"Conveyor's Kafka topics, named <prefix>.<topic>.v<version> (prefix {prefix!r} by default, "
                     f"KAFKA_TOPIC_PREFIX). Public topics: {public}; the others are internal. Every message "
                     "carries CloudEvents 1.0 attributes in its headers (ce_id, ce_type, ce_source, ce_time, "
                     "ce_specversion) and is keyed so that the events of one job or batch keep their order."),
    ).to_specification()
    return _with_headers_and_keys(json.loads(document.to_json()))


# the headers every message carries (shared.events.base.cloud_event_headers, the correlation_id the relay sets,
# and the W3C trace context the telemetry middleware adds)
HEADERS = {
    "ce_specversion": ("CloudEvents spec version: 1.0", True),
    "ce_id": ("the event id (event_id): deduplicate by it", True),
    "ce_type": ("the event type with its version, e.g. job.state-changed@v1", True),
    "ce_source": ("the service that produced it, e.g. /conveyor/scheduler", True),
    "ce_time": ("when it happened (occurred_at), RFC 3339", True),
    "content-type": ("application/json", True),
    "event-type": ("ce_type again, for Conveyor's own consumers", True),
    "event-id": ("ce_id again, for Conveyor's own consumers", True),
    "correlation_id": ("the job (or ingest) the event descends from; the message key where none is named", True),
    "traceparent": ("W3C trace context of the job's trace, when tracing is on", False),
}


def _key_pattern(payload: Any) -> str:
    """The message key of a topic's events, as their ``key()`` builds it, from placeholders of their fields."""
    union = typing.get_args(payload)[0] if typing.get_origin(payload) is typing.Annotated else payload
    classes = typing.get_args(union) or (union,)
    patterns = {cls.model_construct(**{f: f"<{f}>" for f in cls.model_fields}).key() for cls in classes}
    return " or ".join(sorted(patterns))


def _with_headers_and_keys(document: dict[str, Any]) -> dict[str, Any]:
    """Each message's headers as a schema and its Kafka key as a binding: what FastStream's generator leaves out."""
    headers = {"type": "object", "required": sorted(n for n, (_, required) in HEADERS.items() if required),
               "properties": {n: {"type": "string", "description": d} for n, (d, _) in HEADERS.items()}}
    keys = {topic.value: _key_pattern(spec.payload) for topic, spec in REGISTRY.items()}
    for name, message in document["components"]["messages"].items():
        topic = name.split(":", 1)[0]
        message["headers"] = headers
        message["bindings"] = {"kafka": {"bindingVersion": "0.5.0", "key": {
            "type": "string", "description": f"{keys[topic]}: the events of one key share a partition and keep their "
                                             "order"}}}
    return document


def generated_files() -> dict[str, str]:
    """Every file of ``SCHEMA_DIR`` as the code describes it now, by its path under that folder."""
    files = {"asyncapi.json": _dump(build_document())}
    for event_type, model in public_events().items():
        files[f"events/{schema_file_name(event_type)}"] = _dump(event_schema(model))
    for payload_type, payload in webhook_payloads().items():
        files[f"webhooks/{payload_type}.json"] = _dump(event_schema(payload, "webhooks"))
    return files


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main() -> None:
    for name, text in generated_files().items():
        path = SCHEMA_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(SCHEMA_DIR.parents[2])}")


if __name__ == "__main__":
    main()
