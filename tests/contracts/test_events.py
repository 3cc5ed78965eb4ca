import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.events import (
    REGISTRY,
    ArchiveTask,
    EventBase,
    ExportCompletedV1,
    JobStateChangedV1,
    ModelRef,
    NotificationRequestedV1,
    ProcessingCompletedV1,
    ShardReadyV1,
    StageCompleteV1,
    TaskDoneV1,
    TaskProgressV1,
    TaskReadyV1,
    TaskReadyV2,
    TaskStartedV1,
    Topic,
    WorkerAliveV1,
    decode,
    topic_for,
    topic_name,
)

EXAMPLES = Path(__file__).parent / "examples"
SAMPLES = [
    ShardReadyV1(workspace_id="w", batch_id="b", shard_id="s1", ingested_files=10, failed_files=1),
    TaskReadyV1(workspace_id="w", job_id="j", stage_id="processing", task_id="t1"),
    TaskReadyV2(workspace_id="w", job_id="j", stage_id="processing", task_id="t1", kind="images",
                workflow={"version": "1.0", "inputs": [], "steps": [], "outputs": []}, input_batch_id="in",
                seq_from=1, seq_to=100, output_batch_id="j-processing",
                models=[ModelRef(model_id="m", object_key="shared/m/abc.onnx", sha256="abc", task="object-detection",
                                 class_names=["cat"])]),
    TaskStartedV1(workspace_id="w", job_id="j", stage_id="processing", task_id="t1", attempt=1, machine_type="cpu",
                  worker_id="host-1"),
    TaskProgressV1(workspace_id="w", job_id="j", stage_id="processing", task_id="t1", attempt=1, progress=0.5,
                   machine_type="gpu", worker_id="host-1"),
    WorkerAliveV1(worker_id="host-1", machine_type="cpu"),
    TaskDoneV1(workspace_id="w", job_id="j", stage_id="processing", task_id="t1", attempt=1, status="succeeded"),
    StageCompleteV1(workspace_id="w", job_id="j", stage_id="processing", output_batch_id="out"),
    ProcessingCompletedV1(workspace_id="w", job_id="j", results_batch_id="j-processing", export_batch_id="j-export",
                          aggregation_format="csv"),
    ExportCompletedV1(workspace_id="w", job_id="j", export_batch_id="j-export",
                      archives=[ArchiveTask(task_id="archive-0000", files_count=3)]),
    JobStateChangedV1(workspace_id="w", job_id="j", state="succeeded"),
    NotificationRequestedV1(workspace_id="w", url="https://h.example/x", category="job", subject_kind="job",
                            subject_id="j", payload={"type": "roboflow-batch-job-notification-v1"}),
]


def test_every_event_type_embeds_its_version() -> None:
    for event in SAMPLES:
        name, _, version = event.type.partition("@")
        assert name and version.startswith("v") and version[1:].isdigit(), event.type


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_events_round_trip_through_their_topic(event) -> None:
    topic = Topic.TASKS_CPU if isinstance(event, TaskReadyV1 | TaskReadyV2) else topic_for(event)
    decoded = decode(topic, event.model_dump_json().encode())
    assert decoded == event
    assert decoded.key()


@pytest.mark.parametrize(("stage_id", "output", "upgraded"), [
    ("processing", "j-processing", ProcessingCompletedV1(workspace_id="w", job_id="j", results_batch_id="j-processing",
                                                         export_batch_id="j-export", aggregation_format="csv")),
    ("export", "j-export", ExportCompletedV1(workspace_id="w", job_id="j", export_batch_id="j-export", succeeded=False,
                                             archives=[ArchiveTask(task_id="archive-0000", files_count=3)]))])
def test_a_stage_complete_of_before_an_upgrade_is_handled_as_what_it_meant(stage_id: str, output: str,
                                                                          upgraded: EventBase) -> None:
    old = StageCompleteV1(workspace_id="w", job_id="j", stage_id=stage_id, output_batch_id=output,
                          aggregation_format="csv", succeeded=stage_id == "processing",
                          archives=[ArchiveTask(task_id="archive-0000", files_count=3)], correlation_id="j")
    new = old.upgraded()
    volatile = {"event_id", "occurred_at", "correlation_id"}
    assert new.model_dump(exclude=volatile) == upgraded.model_dump(exclude=volatile)
    assert (new.event_id, new.occurred_at, new.correlation_id) == (old.event_id, old.occurred_at, "j")


def test_events_are_frozen() -> None:
    shard = ShardReadyV1(workspace_id="w", batch_id="b", shard_id="s1", ingested_files=1, failed_files=0)
    with pytest.raises(ValidationError):
        shard.batch_id = "other"  # type: ignore[misc]


def test_a_topic_refuses_events_of_another_type() -> None:
    with pytest.raises(ValidationError):
        decode(Topic.TASKS_DONE, SAMPLES[0].model_dump_json())


def test_registry_names_owners_and_versions_every_topic() -> None:
    assert set(REGISTRY) == set(Topic)
    for spec in REGISTRY.values():
        assert spec.producers and spec.schema_version >= 1
        assert spec.consumers or spec.public, f"{spec.topic}: nobody consumes it and it is not public"
        assert topic_name("conveyor", spec.topic) == f"conveyor.{spec.topic.value}.v{spec.schema_version}"


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*/v*/*.json"))


def test_golden_examples_exist_for_every_topic() -> None:
    assert {p.parent.parent.name for p in _examples()} == {t.value for t in Topic}


@pytest.mark.parametrize("path", _examples(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_golden_examples_still_decode(path: Path) -> None:
    """A failing example means a breaking change: add a new @vN event instead of editing the old one."""
    topic = Topic(path.parent.parent.name)
    assert f"v{REGISTRY[topic].schema_version}" == path.parent.name
    example = json.loads(path.read_text())
    event = decode(topic, example)
    assert event.type == example["type"] and event.event_id == example["event_id"]
