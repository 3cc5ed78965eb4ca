"""The topic registry is the truth: its producers and consumers are the ones the code really has.

Consumers come from the subscriptions each service builds; producers from the event classes each service's
code constructs. A topic nobody in Conveyor consumes must be declared public (a contract with outside
consumers), or it is dead weight."""

from __future__ import annotations

import ast
from pathlib import Path

from deploy.asyncapi import service_subscriptions
from shared import events
from shared.config import REPO_ROOT
from shared.events import REGISTRY, EventBase, Topic
from shared.events.topics import _types_of

SERVICES = ("ingest_svc", "scheduler_svc", "worker_svc", "export_svc", "notifier_svc")


def _event_classes() -> dict[str, type[EventBase]]:
    return {name: cls for name, cls in vars(events).items()
            if isinstance(cls, type) and issubclass(cls, EventBase) and cls is not EventBase}


def _constructed(package: str) -> set[str]:
    """Names of the event classes the package's code calls."""
    classes = _event_classes()
    found = set()
    for path in Path(REPO_ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes:
                found.add(node.func.id)
    return found


def _topics_of(cls: type[EventBase]) -> set[Topic]:
    event_type = cls.model_fields["type"].default
    return {spec.topic for spec in REGISTRY.values() if event_type in _types_of(spec)}


def test_consumers_in_the_registry_are_the_real_subscriptions() -> None:
    real: dict[Topic, set[str]] = {t: set() for t in Topic}
    for service, subscriptions in service_subscriptions().items():
        for subs in subscriptions:
            for topic, _group in subs.subscribed:
                real[topic].add(service)
    for topic, spec in REGISTRY.items():
        assert set(spec.consumers) == real[topic], f"{topic}: registry says {spec.consumers}, code {real[topic]}"
        assert real[topic] or spec.public, f"{topic}: nobody consumes it and it is not declared public"


def test_producers_in_the_registry_are_the_real_publishers() -> None:
    classes = _event_classes()
    real: dict[Topic, set[str]] = {t: set() for t in Topic}
    for service in SERVICES:
        for name in _constructed(service):
            for topic in _topics_of(classes[name]):
                real[topic].add(service)
    for topic, spec in REGISTRY.items():
        assert set(spec.producers) == real[topic], f"{topic}: registry says {spec.producers}, code {real[topic]}"


def test_the_derivation_sees_what_it_must() -> None:
    """The checks above would pass vacuously if the scan found nothing: it finds the known cases."""
    assert "TaskReadyV2" in _constructed("scheduler_svc") and "TaskDoneV1" in _constructed("worker_svc")
    assert _topics_of(_event_classes()["TaskReadyV2"]) == {Topic.TASKS_CPU, Topic.TASKS_GPU}
    workers = service_subscriptions()["worker_svc"]
    assert [t for subs in workers for t, _ in subs.subscribed] == [Topic.TASKS_CPU, Topic.JOB_STATES,
                                                                  Topic.TASKS_GPU, Topic.JOB_STATES]
