"""What a task produces: each image's (or frame's) record, the images it persists, and what failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.events import ModelExecution
from worker_svc.errors import FileFailed
from worker_svc.results import KEY_COLUMNS
from worker_svc.workflows.values import Image, encode_jpeg, serialize


@dataclass
class TaskOutput:
    records: list[dict[str, Any]] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (name in the "images" part, JPEG)
    processed: int = 0
    in_flight: int = 0  # images in the workflow at once (the job's workersPerMachine, or the worker's default)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    inference: Callable[[], list[ModelExecution]] = list  # how the workflow's models ran
    media_seconds: float = 0.0  # videos: the seconds their files hold
    media_seconds_run: float = 0.0  # videos: the seconds of them run (an estimate's sample runs the start only)


def record_of(result: dict[str, Any], source: str, persist: set[str], output: TaskOutput) -> dict[str, Any]:
    """The record of one image's (or frame's) outputs. Persisted images get flat names that keep the
    whole source name (``vis__a.png.jpg`` and ``vis__a.jpg.jpg`` stay apart), because clients write every
    file of a part into one folder. An output named like a key column (``image``, ``video``, ...) is
    kept as ``<name>_output``: the input's name always survives in its column."""
    record: dict[str, Any] = {}
    for name, value in result.items():
        counter = iter(range(1_000_000))

        def keep(image: Image, name: str = name, counter: Any = counter) -> str | None:
            if name not in persist:
                return None
            index = next(counter)
            file_name = f"{name}__{source}{f'__{index}' if index else ''}.jpg"
            output.images.append((file_name, encode_jpeg(image)))
            return file_name

        serialized = serialize(value, on_image=keep)
        if serialized is not None or name in persist:
            key = name
            while key in KEY_COLUMNS or (key != name and key in result):
                key = f"{key}_output"
            record[key] = serialized
    return record


def image_parameters(mapping: dict[str, str], metadata: dict[str, Any] | None) -> dict[str, Any]:
    """An image's own workflow inputs: ``{workflow input: metadata key}`` looked up in its metadata."""
    if metadata is None:
        raise FileFailed("the image has no record in the job's imagesMetadataPart")
    missing = sorted(key for key in mapping.values() if key not in metadata)
    if missing:
        raise FileFailed(f"the image's metadata lacks {', '.join(map(repr, missing))} (imagesMetadataInputsMapping)")
    return {workflow_input: metadata[key] for workflow_input, key in mapping.items()}
