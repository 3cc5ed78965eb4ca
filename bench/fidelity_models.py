"""The registered models of a fidelity run: one per task, each given to both executors under every model id a
definition names for that task (as a user's aliases would map Roboflow's ids to their registered models).

Detection is the default YOLOv4-tiny COCO network (real boxes on real photos); the other tasks are tiny ONNX graphs
of the exact layouts Conveyor reads (``tests.fixtures.onnx_models``), whose outputs are known from the input.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler_svc.default_model import ensure_default_model
from shared.workflows.model_steps import ModelStep, task_of
from tests.fixtures.onnx_models import colour_classifier, square_segmenter, two_point_poser
from worker_svc.inference.classifier import OnnxClassifier
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels


@dataclass(frozen=True)
class KitModel:
    task: str
    path: Path
    layout: str | None
    class_names: list[str]
    input_size: int
    keypoint_names: tuple[str, ...] = ()

    def file(self) -> dict[str, Any]:
        """What the engine host is told of the model (as the worker sends a registered model's file)."""
        return {"path": str(self.path), "task": self.task, "layout": self.layout, "class_names": self.class_names,
                "input_size": self.input_size, "keypoint_names": list(self.keypoint_names)}

    def load(self) -> Any:
        if self.task in ("classification", "multi-label-classification"):
            return OnnxClassifier(self.path, self.class_names, input_size=self.input_size,
                                  multi_label=self.task == "multi-label-classification")
        return OnnxDetector(self.path, self.class_names, input_size=self.input_size, layout=self.layout,  # type: ignore[arg-type]
                            keypoint_names=list(self.keypoint_names))


class ModelKit:
    def __init__(self, root: Path) -> None:
        default = ensure_default_model(root / "default")
        colours = ["red", "green", "blue"]
        self.by_task = {
            "object-detection": KitModel("object-detection", default.onnx_path, "boxes-scores", default.class_names,
                                         default.input_size),
            "instance-segmentation": KitModel("instance-segmentation", square_segmenter(root / "seg.onnx"),
                                              "yolov8-seg", ["blob"], 64),
            "keypoint-detection": KitModel("keypoint-detection", two_point_poser(root / "pose.onnx"), "yolov8-pose",
                                           ["person"], 64, ("head", "foot")),
            "classification": KitModel("classification", colour_classifier(root / "single.onnx", softmax=True),
                                       None, colours, 16),
            "multi-label-classification": KitModel("multi-label-classification",
                                                   colour_classifier(root / "multi.onnx", softmax=False), None,
                                                   colours, 16),
        }
        self._loaded: dict[str, Any] = {}

    @classmethod
    @contextmanager
    def temporary(cls) -> Iterator[ModelKit]:
        with tempfile.TemporaryDirectory(prefix="fidelity-") as root:
            yield cls(Path(root))

    def id_for(self, block_type: str) -> str:
        """A model id for a model input a definition leaves without a default."""
        return f"fidelity-{task_of(block_type) or 'object-detection'}"

    def _model(self, step: ModelStep) -> KitModel:
        if step.task is None:
            raise ValueError(f"step {step.step!r} ({step.block}) runs a model of a kind the kit has none of")
        return self.by_task[step.task]

    def files_for(self, steps: list[ModelStep]) -> dict[str, dict[str, Any]]:
        return {s.model_id: self._model(s).file() for s in steps}

    def models_for(self, steps: list[ModelStep]) -> dict[str, Any]:
        chosen = {}
        for s in steps:
            kit_model = self._model(s)
            if kit_model.task not in self._loaded:
                self._loaded[kit_model.task] = kit_model.load()
            chosen[s.model_id] = self._loaded[kit_model.task]
        return chosen

    def loaded(self, models: dict[str, Any]) -> LoadedModels:
        return LoadedModels(models)
