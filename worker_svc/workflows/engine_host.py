"""The worker's host of Roboflow's Workflows Execution Engine: ``<inference venv>/bin/python -m
worker_svc.workflows.engine_host`` (protocol: ``shared.workflows.roboflow_engine``).

It imports nothing of Conveyor but the protocol, the ONNX model wrappers and the SSRF guard: Conveyor's model
registry is the engine's model manager, so Roboflow model blocks run the worker's registered ONNX files offline,
never Roboflow's hosted API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.workflows.roboflow_engine import image_input, init_engine, message, open_protocol, read_frame, write_frame


class RegistryModelManager:
    """The subset of inference's ``ModelManager`` that model blocks call, backed by Conveyor's ONNX models."""

    def __init__(self, specs: dict[str, dict[str, Any]], threads: int | None) -> None:
        self.specs = specs
        self.threads = threads
        self.loaded: dict[str, Any] = {}

    def add_model(self, model_id: str, *args: Any, **kwargs: Any) -> None:
        self._model(model_id)

    def infer_from_request_sync(self, model_id: str, request: Any, **kwargs: Any) -> list[Any]:
        from inference.core.entities.responses.inference import (
            ClassificationInferenceResponse,
            ClassificationPrediction,
            InferenceResponseImage,
            ObjectDetectionInferenceResponse,
            ObjectDetectionPrediction,
        )

        model = self._model(model_id)
        images = [_bgr(i) for i in (request.image if isinstance(request.image, list) else [request.image])]
        if self.specs[model_id]["task"] == "classification":
            return [ClassificationInferenceResponse(
                image=InferenceResponseImage(**r["image"]), top=r["top"], confidence=r["confidence"],
                predictions=[ClassificationPrediction(**p) for p in r["predictions"]])
                for r in model.classify(images, confidence=getattr(request, "confidence", None) or 0.0)]
        found = model.detect(images, confidence=_or(request.confidence, 0.4),
                             iou_threshold=_or(request.iou_threshold, 0.45),
                             max_detections=_or(request.max_detections, 300),
                             class_filter=set(request.class_filter) if request.class_filter else None)
        return [ObjectDetectionInferenceResponse(
            image=InferenceResponseImage(width=img.shape[1], height=img.shape[0]),
            predictions=[ObjectDetectionPrediction(**d) for d in dets])
            for img, dets in zip(images, found, strict=True)]

    def _model(self, model_id: str) -> Any:
        if model_id not in self.specs:
            raise KeyError(f"model {model_id!r} is not registered in Conveyor")
        if model_id not in self.loaded:
            from worker_svc.inference.classifier import OnnxClassifier
            from worker_svc.inference.detector import OnnxDetector

            s = self.specs[model_id]
            if s["task"] not in ("object-detection", "classification"):
                raise ValueError(f"model {model_id!r} is a {s['task']} model: the engine backend runs the "
                                 "registry's object detection and classification models; run this workflow on "
                                 "the built-in executor (inferenceBackend inference-models)")
            if s["task"] == "classification":
                self.loaded[model_id] = OnnxClassifier(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                       threads=self.threads)
            else:
                self.loaded[model_id] = OnnxDetector(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                     layout=s["layout"], threads=self.threads)
        return self.loaded[model_id]


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _bgr(image: Any) -> Any:
    if getattr(image, "type", None) == "numpy_object":
        return image.value
    from inference.core.utils.image_utils import load_image_bgr

    return load_image_bgr(image)


def main() -> None:
    proto_in, proto_out, config = open_protocol()
    try:
        import numpy as np

        workflow = config["workflow"]
        image_name = image_input(workflow)
        metadata_inputs = [i["name"] for i in workflow.get("inputs", []) if i.get("type") == "WorkflowVideoMetadata"]
        manager = RegistryModelManager(config.get("models", {}), config.get("threads") or None)
        engine = init_engine(workflow, manager)
    except Exception as exc:
        write_frame(proto_out, json.dumps({"error": message(exc)}).encode())
        return
    write_frame(proto_out, b'{"ok": true}')
    if config.get("check_only"):
        return
    while (head := read_frame(proto_in)) is not None:
        request = json.loads(head)
        pixels = read_frame(proto_in) or b""
        try:
            # the frame's video metadata keys the state of the engine's video blocks (trackers, zones)
            metadata = request["video_metadata"]
            # writable: blocks may draw on their input in place (copy_image false, SIFT)
            pixels_array = np.frombuffer(bytearray(pixels), np.uint8).reshape(request["shape"])
            image = {"type": "numpy_object", "value": pixels_array,
                     "parent_id": request["parent_id"], "video_metadata": metadata}
            (result,) = engine.run(runtime_parameters={**request.get("parameters", {}), image_name: image,
                                                       **dict.fromkeys(metadata_inputs, metadata)},
                                   serialize_results=True)
            reply = {"outputs": result}
        except Exception as exc:
            reply = {"error": message(exc)}
        write_frame(proto_out, json.dumps(reply, default=str).encode())


if __name__ == "__main__":
    main()
