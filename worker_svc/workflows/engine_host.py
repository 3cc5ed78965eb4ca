"""The worker's host of Roboflow's Workflows Execution Engine: ``<engine venv>/bin/python -m
worker_svc.workflows.engine_host`` (protocol: ``shared.workflows.roboflow_engine``), one per worker, reused.

It imports nothing of Conveyor but the protocol, the engine's setup, the ONNX model wrappers and the SSRF guard:
Conveyor's model registry is the engine's models provider, so Roboflow model blocks run the worker's registered
ONNX files offline, never Roboflow's hosted API.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from shared.workflows.engine_protocol import answer, open_protocol, read_frame, requests
from shared.workflows.engine_setup import engine_version, image_input, init_engine, message
from worker_svc.inference.thresholds import DEFAULT_CONFIDENCE

KEEP_ENGINES = 8  # compiled workflows kept, least recently used dropped
DETECTION_LAYOUTS = {"object-detection": (None, "boxes-scores", "yolov8"), "instance-segmentation": ("yolov8-seg",),
                     "keypoint-detection": ("yolov8-pose",)}


class RegistryModelsProvider:
    """The part of ``roboflow_workflows``' ``ModelsProvider`` port that model blocks call, backed by Conveyor's
    registered ONNX models (the files the scheduler resolved for one workflow's task, aliases included); the
    sessions are shared by every workflow of the host through ``loaded``."""

    content_addressed_artifact_cache = None

    def __init__(self, specs: dict[str, dict[str, Any]], loaded: dict[tuple[str, str], Any],
                 threads: int | None) -> None:
        self.specs = specs
        self.loaded = loaded
        self.threads = threads

    def __contains__(self, model_id: str) -> bool:
        return model_id in self.specs

    def add_model(self, model_id: str, *args: Any, **kwargs: Any) -> None:
        if model_id.startswith(OCR_CORE_MODELS):
            return  # read with Conveyor's OCR model (run_doctr_ocr), nothing to load by that id
        self._model(model_id)

    def get_class_names(self, model_id: str) -> list[str]:
        return list(self._spec(model_id)["class_names"])

    def get_keypoints_classes(self, model_id: str) -> list[list[str]]:
        return [list(self._spec(model_id).get("keypoint_names") or [])] * len(self.get_class_names(model_id))

    # Roboflow's stream pipelining overlaps a live stream's frames; a batch sends one image at a time
    def model_supports_stream_pipeline(self, model_id: str) -> bool:
        return False

    def get_model_pipeline_depth(self, model_id: str) -> int:
        return 0

    def flush_model_stream_pipeline(self, model_id: str) -> list[Any]:
        return []

    def shutdown_model_stream_pipeline(self, model_id: str) -> None:
        return None

    def run_object_detection(self, model_id: str, images: list[Any], **kwargs: Any) -> list[dict[str, Any]]:
        return self._detect("object-detection", model_id, images, kwargs)

    def run_instance_segmentation(self, model_id: str, images: list[Any], **kwargs: Any) -> Any:
        decode = (str(kwargs.get("mask_decode_mode") or "accurate"), float(kwargs.get("tradeoff_factor") or 0.0))
        found = self._detect("instance-segmentation", model_id, images, kwargs, mask_decode=decode)
        if not kwargs.get("return_raw_responses"):
            return found
        from roboflow_workflows.prototypes.models_provider import InferenceResultsDC

        # the v3 block reads the server's response objects, each of which gives its dict form
        return InferenceResultsDC(predictions=found, raw_responses=[_Response(r) for r in found])

    def run_keypoints_detection(self, model_id: str, images: list[Any], **kwargs: Any) -> list[dict[str, Any]]:
        minimum = kwargs.get("keypoint_confidence")
        return self._detect("keypoint-detection", model_id, images, kwargs,
                            keypoint_confidence=0.0 if minimum is None else float(minimum))

    def run_classification(self, model_id: str, images: list[Any], confidence: Any = None,
                           **kwargs: Any) -> list[dict[str, Any]]:
        if self._spec(model_id)["task"] not in ("classification", "multi-label-classification"):
            raise ValueError(f"model {model_id!r} is a {self._spec(model_id)['task']} model, not a classifier")
        return list(self._model(model_id).classify([_bgr(i) for i in images], confidence=_confidence(confidence)))

    # Roboflow's OCR blocks (docTR's ocr_model, PaddleOCR's pp_ocr) read with Conveyor's OCR model, the built-in
    # executor's (PP-OCRv4 through RapidOCR): the same lines and text on either path
    def run_doctr_ocr(self, model_id: str, image: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._read(image, "small", "small")

    def run_pp_ocr(self, image: Any, api_key: Any = None, text_detection: Any = None, text_recognition: Any = None,
                   **kwargs: Any) -> dict[str, Any]:
        return self._read(image, text_detection if isinstance(text_detection, str) else "small",
                          text_recognition if isinstance(text_recognition, str) else "small")

    def _read(self, image: Any, detection: str, recognition: str) -> dict[str, Any]:
        from worker_svc.inference.ocr import TextReader, text_of

        pixels = _bgr(image)
        reader = self.loaded.setdefault(("ocr", "rapidocr"), TextReader(self.threads))
        lines = reader.read(pixels, detect=detection != "none", recognise=recognition != "none")
        return {"result": text_of(lines), "predictions": [line.as_detection() for line in lines],
                "image": {"width": int(pixels.shape[1]), "height": int(pixels.shape[0])}}

    def _detect(self, kind: str, model_id: str, images: list[Any], kwargs: dict[str, Any],
                **extra: Any) -> list[dict[str, Any]]:
        spec = self._spec(model_id)
        if spec["task"] == "classification" or spec.get("layout") not in DETECTION_LAYOUTS[kind]:
            raise ValueError(f"model {model_id!r} ({spec['task']}, layout {spec.get('layout')}) is not a {kind} "
                             "model: register one of that task, or alias the step's model id to one")
        pixels = [_bgr(i) for i in images]
        class_filter = kwargs.get("class_filter")
        found = self._model(model_id).detect(
            pixels, confidence=_confidence(kwargs.get("confidence")),
            iou_threshold=_or(kwargs.get("iou_threshold"), 0.3),
            max_detections=int(_or(kwargs.get("max_detections"), 300)),
            class_filter=set(class_filter) if class_filter else None,
            class_agnostic_nms=bool(kwargs.get("class_agnostic_nms")),
            max_candidates=int(_or(kwargs.get("max_candidates"), 3000)), **extra)
        return [{"image": {"width": int(p.shape[1]), "height": int(p.shape[0])}, "predictions": dets}
                for p, dets in zip(pixels, found, strict=True)]

    def _spec(self, model_id: str) -> dict[str, Any]:
        if model_id not in self.specs:
            raise KeyError(f"model {model_id!r} is not registered in Conveyor (register it, or alias the id to a "
                           "registered model)")
        return self.specs[model_id]

    def _model(self, model_id: str) -> Any:
        s = self._spec(model_id)
        key = (model_id, s["path"])
        if key not in self.loaded:
            from worker_svc.inference.classifier import OnnxClassifier
            from worker_svc.inference.detector import OnnxDetector

            if s["task"] in ("classification", "multi-label-classification"):
                self.loaded[key] = OnnxClassifier(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                  multi_label=s["task"] == "multi-label-classification",
                                                  threads=self.threads)
            else:
                self.loaded[key] = OnnxDetector(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                layout=s["layout"], keypoint_names=s.get("keypoint_names") or [],
                                                threads=self.threads)
        return self.loaded[key]


OCR_CORE_MODELS = ("doctr/",)


class _Response:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return self.payload


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _confidence(value: Any) -> float:
    if value is None or isinstance(value, str):
        return DEFAULT_CONFIDENCE
    return float(value)


def _bgr(image: Any) -> np.ndarray:
    if isinstance(image, dict) and image.get("type") == "numpy_object":
        return image["value"]
    if isinstance(image, np.ndarray):
        return image
    raise ValueError("the engine host takes images as pixels only")


class Host:
    """The compiled workflows of one worker, each under the key the service chose for (workflow, model files)."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.sessions: dict[tuple[str, str], Any] = {}
        self.engines: OrderedDict[str, tuple[Any, str, list[str]]] = OrderedDict()

    def load(self, key: str, workflow: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
        provider = RegistryModelsProvider(models, self.sessions, self.threads)
        metadata_inputs = [i["name"] for i in workflow.get("inputs", []) if i.get("type") == "WorkflowVideoMetadata"]
        self.engines[key] = (init_engine(workflow, provider), image_input(workflow), metadata_inputs)
        while len(self.engines) > KEEP_ENGINES:
            self.engines.popitem(last=False)

    def run(self, request: dict[str, Any], pixels: bytes) -> dict[str, Any]:
        if request["key"] not in self.engines:
            return {"missing": True}
        self.engines.move_to_end(request["key"])
        engine, image_name, metadata_inputs = self.engines[request["key"]]
        # the frame's video metadata keys the state of the engine's video blocks (trackers, zones)
        metadata = request["video_metadata"]
        # writable: blocks may draw on their input in place (copy_image false, SIFT)
        array = np.frombuffer(bytearray(pixels), np.uint8).reshape(request["shape"])
        image = {"type": "numpy_object", "value": array, "parent_id": request["parent_id"], "video_metadata": metadata}
        # some of Roboflow's blocks draw from the global generators unseeded (dominant colour's k-means starts):
        # seeded for each image, an image always gets one answer, on a retried task too
        np.random.seed(0)
        random.seed(0)
        (result,) = engine.run(runtime_parameters={**request.get("parameters", {}), image_name: image,
                                                   **dict.fromkeys(metadata_inputs, metadata)},
                               serialize_results=True)
        return {"outputs": result}


def main() -> None:
    proto_in, proto_out, config = open_protocol()
    host = Host(config.get("threads") or None)
    answer(proto_out, {"ok": True, "engine": engine_version()})
    for request in requests(proto_in):
        pixels = (read_frame(proto_in) or b"") if request.get("op") == "run" else b""
        try:
            if request.get("op") == "run":
                reply = host.run(request, pixels)
            elif request.get("op") == "load":
                host.load(request["key"], request["workflow"], request.get("models") or {})
                reply = {"ok": True}
            else:
                raise ValueError(f"unknown request {request.get('op')!r}")
        except Exception as exc:
            reply = {"error": message(exc)}
        answer(proto_out, reply)


if __name__ == "__main__":
    main()
