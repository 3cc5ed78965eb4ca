"""What the model blocks share: the confidence a step asks for, the detector over every image of a step in one
session call, and the classifiers (the runs in ``worker_svc.workflows.runs``)."""

from __future__ import annotations

import uuid
from typing import Any

from worker_svc.inference.thresholds import DEFAULT_CONFIDENCE
from worker_svc.workflows.blocks import ModelProvider, Run
from worker_svc.workflows.values import Classification, Detections, Image


def confidence(p: dict[str, Any]) -> float:
    if "confidence_mode" not in p:
        return float(p["confidence"])
    if p["confidence_mode"] == "custom":
        return float(p["custom_confidence"])
    if p["confidence_mode"] in ("best", "default"):
        return DEFAULT_CONFIDENCE
    raise ValueError(f"confidence_mode must be 'best', 'default' or 'custom', not {p['confidence_mode']!r}")


def detect_all(models: ModelProvider, p: dict[str, Any], images: list[Image]) -> list[dict[str, Any]]:
    """One model call for every image (the crops or slices of one image go in one session call)."""
    detector = models.detector(p["model_id"])
    segments = "mask_decode_mode" in p  # the instance segmentation blocks
    poses = "keypoint_confidence" in p  # the keypoint detection blocks
    layout = getattr(detector, "layout", None)
    if segments != (layout == "yolov8-seg"):
        raise ValueError(f"model {p['model_id']!r} is " + ("not an instance segmentation model" if segments else
                         "an instance segmentation model: use the instance segmentation block"))
    if poses != (layout == "yolov8-pose"):
        raise ValueError(f"model {p['model_id']!r} is " + ("not a keypoint detection model" if poses else
                         "a keypoint detection model: use the keypoint detection block"))
    class_filter = set(p["class_filter"]) if p.get("class_filter") else None
    decode = (str(p["mask_decode_mode"]), float(p["tradeoff_factor"])) if segments else ("accurate", 0.0)
    found = detector.detect([image.array for image in images], confidence=confidence(p),
                            iou_threshold=float(p["iou_threshold"]), max_detections=int(p["max_detections"]),
                            class_filter=class_filter, class_agnostic_nms=bool(p["class_agnostic_nms"]),
                            max_candidates=int(p["max_candidates"]), mask_decode=decode,
                            **({"keypoint_confidence": float(p["keypoint_confidence"])} if poses else {}))
    return [{"predictions": Detections(image.width, image.height, [image.to_full_size(d) for d in items],
                                       image.parent_id, image.offset, image.placement),
             "model_id": p["model_id"], "inference_id": str(uuid.uuid4())} for image, items in zip(images, found,
                                                                                                    strict=True)]


def detect(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    (result,) = detect_all(models, p, [p["images"]])
    return result


def _classifier(models: ModelProvider, model_id: str, multi_label: bool) -> Any:
    classifier = models.classifier(model_id)
    if bool(getattr(classifier, "multi_label", False)) != multi_label:
        kind = "a multi-label" if multi_label else "a single-label"
        raise ValueError(f"model {model_id!r} is not {kind} classifier (registered with another --task)")
    return classifier


def classify_as(*, multi_label: bool) -> Run:
    def run(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
        image: Image = p["images"]
        (result,) = _classifier(models, p["model_id"], multi_label).classify([image.array],
                                                                            confidence=confidence(p))
        result["parent_id"] = image.parent_id
        result["image"] = {"width": image.width, "height": image.height}  # the full image's, if decoded smaller
        return {"predictions": Classification(result), "model_id": p["model_id"],
                "inference_id": str(uuid.uuid4())}
    return run
