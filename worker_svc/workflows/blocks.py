"""What the core Roboflow Workflow blocks of ``shared.workflows.catalogue`` do, on Conveyor's own ONNX models.

Parameters of a per-element kind may receive a ``Batch`` (one value per crop), in which case the block runs once
per element; an element that is ``None`` (its branch was stopped by ``continue_if``) gives ``None``. Output
shapes follow Roboflow's serialised Workflow outputs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from shared.workflows.blockspec import PER_ELEMENT_KINDS, BlockSpec
from worker_svc.inference.ocr import text_of
from worker_svc.inference.thresholds import DEFAULT_CONFIDENCE
from worker_svc.workflows import (
    bounding_rect,
    classical,
    consensus,
    formatters,
    fusion,
    imaging,
    motion,
    perspective,
    rollup,
    sahi,
    transforms,
    uql,
    video_blocks,
    video_memory,
    zones,
)
from worker_svc.workflows.classical import colour_bgr
from worker_svc.workflows.sv_bridge import mask_of
from worker_svc.workflows.values import CONTINUE, Batch, Classification, Detections, Image, Placement, moved
from worker_svc.workflows.video_blocks import StatefulRun
from worker_svc.workflows.video_state import VideoFrame
from worker_svc.workflows.visualizations import VISUALIZATIONS, trace_visualization


class ModelProvider(Protocol):
    """Resolves ``model_id``s of the workflow to loaded models (the worker's model registry cache)."""

    def detector(self, model_id: str) -> Any: ...

    def classifier(self, model_id: str) -> Any: ...

    def text_reader(self) -> Any: ...


Run = Callable[[ModelProvider, dict[str, Any]], dict[str, Any]]


def _confidence(p: dict[str, Any]) -> float:
    if "confidence_mode" not in p:
        return float(p["confidence"])
    if p["confidence_mode"] == "custom":
        return float(p["custom_confidence"])
    if p["confidence_mode"] in ("best", "default"):
        return DEFAULT_CONFIDENCE
    raise ValueError(f"confidence_mode must be 'best', 'default' or 'custom', not {p['confidence_mode']!r}")


def _detect_all(models: ModelProvider, p: dict[str, Any], images: list[Image]) -> list[dict[str, Any]]:
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
    found = detector.detect([image.array for image in images], confidence=_confidence(p),
                            iou_threshold=float(p["iou_threshold"]), max_detections=int(p["max_detections"]),
                            class_filter=class_filter, class_agnostic_nms=bool(p["class_agnostic_nms"]),
                            max_candidates=int(p["max_candidates"]), mask_decode=decode,
                            **({"keypoint_confidence": float(p["keypoint_confidence"])} if poses else {}))
    return [{"predictions": Detections(image.width, image.height, [image.to_full_size(d) for d in items],
                                       image.parent_id, image.offset, image.placement),
             "model_id": p["model_id"], "inference_id": str(uuid.uuid4())} for image, items in zip(images, found,
                                                                                                    strict=True)]


def _detect(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    (result,) = _detect_all(models, p, [p["images"]])
    return result


def _classifier(models: ModelProvider, model_id: str, multi_label: bool) -> Any:
    classifier = models.classifier(model_id)
    if bool(getattr(classifier, "multi_label", False)) != multi_label:
        kind = "a multi-label" if multi_label else "a single-label"
        raise ValueError(f"model {model_id!r} is not {kind} classifier (registered with another --task)")
    return classifier


def _classify_as(multi_label: bool) -> Run:
    def run(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
        image: Image = p["images"]
        (result,) = _classifier(models, p["model_id"], multi_label).classify([image.array],
                                                                            confidence=_confidence(p))
        result["parent_id"] = image.parent_id
        result["image"] = {"width": image.width, "height": image.height}  # the full image's, if decoded smaller
        return {"predictions": Classification(result), "model_id": p["model_id"],
                "inference_id": str(uuid.uuid4())}
    return run


_OCR_SIZES = ("none", "tiny", "small", "medium")


def _ocr(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    """Roboflow's OCR outputs: the text (a line per line), and each line as a detection whose class is its text.
    pp_ocr's sizes all read with the one PP-OCRv4 mobile pair; ``none`` turns detection or recognition off."""
    image: Image = p["images"]
    sizes = (p.get("text_detection", "small"), p.get("text_recognition", "small"))
    if any(s not in _OCR_SIZES for s in sizes):
        raise ValueError(f"text_detection and text_recognition must be one of {_OCR_SIZES}")
    lines = models.text_reader().read(image.array, detect=sizes[0] != "none", recognise=sizes[1] != "none")
    found = [image.to_full_size(line.as_detection()) for line in lines]
    return {"result": text_of(lines), "predictions": Detections(image.width, image.height, found, image.parent_id,
                                                               image.offset),
            "parent_id": image.parent_id, "root_parent_id": image.root, "prediction_type": "ocr"}


def _transform(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    """detections_filter and detections_transformation: operations on predictions, with named parameters."""
    return {"predictions": uql.apply(p["operations"], p["predictions"], p["operations_parameters"])}


def _property(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {"output": uql.apply(p["operations"], p["data"], {})}


def _expression(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    variables = dict(p["data"])
    for name, operations in p["data_operations"].items():
        variables[name] = uql.apply(operations, variables[name], {})
    switch = p["switch"]
    chosen = next((case["result"] for case in switch["cases"] if uql.evaluate(case["condition"], variables)),
                  switch["default"])
    if chosen["type"] == "StaticCaseResult":
        return {"output": chosen["value"]}
    return {"output": uql.apply(chosen.get("operations", []), variables[chosen["parameter_name"]], variables)}


def _collapse(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    data = p["data"]
    if isinstance(data, Batch) and data and all(isinstance(e, Batch) for e in data):
        return {"output": Batch(list(e) for e in data)}  # crops of crops: one list per crop
    return {"output": list(data) if isinstance(data, Batch) else [data]}


def _continue_if(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {CONTINUE: bool(p["next_steps"]) and uql.evaluate(p["condition_statement"], p["evaluation_parameters"])}


def _continue_if_delayed(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """With ``stop_delay``: the branch stays open for that many seconds of video time after the condition last
    held (Roboflow's engine counts wall-clock seconds of a live stream; a batch job is not paced by a clock)."""
    delay = float(p["stop_delay"])
    if delay < 0:
        raise ValueError("stop_delay must not be negative")
    if not p["next_steps"]:
        return {CONTINUE: False}
    now = frame.metadata.seconds
    if uql.evaluate(p["condition_statement"], p["evaluation_parameters"]):
        state["held_at"] = now
        return {CONTINUE: True}
    held = state.get("held_at")
    return {CONTINUE: held is not None and now - held <= delay}


def _corners(d: dict[str, Any], w: int, h: int) -> tuple[int, int, int, int]:
    x1 = int(max(0, round(d["x"] - d["width"] / 2)))
    y1 = int(max(0, round(d["y"] - d["height"] / 2)))
    x2 = int(min(w, round(d["x"] + d["width"] / 2)))
    y2 = int(min(h, round(d["y"] + d["height"] / 2)))
    return x1, y1, x2, y2


def _crop(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    """A crop per detection, and the detection on it (in the crop's coordinates); with ``mask_opacity`` a
    segmented detection's background is blended towards ``background_color`` (RGB)."""
    image: Image = p["images"]
    dets: Detections = p["predictions"]
    opacity = float(p["mask_opacity"])
    if not 0 <= opacity <= 1:
        raise ValueError("mask_opacity must be between 0 and 1")
    crops, on_crops = Batch(), Batch()
    for d in dets.items:
        x1, y1, x2, y2 = _corners(d, image.width, image.height)
        if x2 <= x1 or y2 <= y1:
            continue
        pixels = image.array[y1:y2, x1:x2].copy()
        if opacity > 0 and d.get("points"):
            inside = mask_of(d, image.width, image.height)[y1:y2, x1:x2, None]
            background = np.empty_like(pixels)
            background[:] = colour_bgr(p["background_color"])
            pixels = cv2.addWeighted(np.where(inside, pixels, background), opacity, pixels, 1.0 - opacity, 0)
        at = image.placement
        cut_at = Placement(at.root_id, (at.origin[0] + x1, at.origin[1] + y1), at.root_size,
                           (image.width, image.height))
        crops.append(Image(pixels, parent_id=d["detection_id"], offset=(x1, y1), root_id=image.root, cut_at=cut_at))
        on_crops.append(Detections(x2 - x1, y2 - y1, [moved(d, -x1, -y1)], d["detection_id"], (x1, y1), cut_at))
    return {"crops": crops, "predictions": on_crops}


RUNS: dict[str, Run] = {
    "object_detection": _detect, "instance_segmentation": _detect, "keypoint_detection": _detect,
    "classification": _classify_as(False), "ocr": _ocr,
    "multi_label_classification": _classify_as(True), "detections_filter": _transform,
    "detections_transformation": _transform, "dynamic_crop": _crop,
    "property_definition": _property, "expression": _expression,
    "dimension_collapse": _collapse, "continue_if": _continue_if,
    "detection_offset": transforms.detection_offset, "absolute_static_crop": transforms.absolute_static_crop,
    "relative_static_crop": transforms.relative_static_crop,
    "detections_classes_replacement": transforms.detections_classes_replacement,
    "image_preprocessing": imaging.image_preprocessing, "convert_grayscale": imaging.convert_grayscale,
    "dominant_color": imaging.dominant_color,
    "image_slicer": sahi.image_slicer(1), "image_slicer_v2": sahi.image_slicer(2),
    "detections_stitch": sahi.detections_stitch, "detections_consensus": consensus.detections_consensus,
    **VISUALIZATIONS,
    "image_blur": classical.image_blur, "threshold": classical.threshold,
    "morphological_transformation": classical.morphological_transformation(1),
    "morphological_transformation_v2": classical.morphological_transformation(2),
    "contrast_enhancement": classical.contrast_enhancement, "contours_detection": classical.contours_detection,
    "camera_focus": classical.camera_focus, "perspective_correction": perspective.perspective_correction,
    "pixel_color_count": classical.pixel_color_count, "detections_merge": classical.detections_merge,
    "overlap": classical.overlap,
    "stitch_ocr_detections": classical.stitch_ocr_detections,
    "first_non_empty_or_default": classical.first_non_empty_or_default, "json_parser": classical.json_parser,
    "csv_formatter": formatters.csv_formatter,
    "detections_list_rollup": rollup.detections_list_rollup, "overlap_analysis": fusion.overlap_analysis,
    "detections_nearest_neighbor": fusion.detections_nearest_neighbor, "bounding_rect": bounding_rect.bounding_rect,
    "template_matching": fusion.template_matching,
    "dynamic_zone": zones.dynamic_zone,
}

# blocks that keep state from frame to frame of a video: (parameters, frame, this step's state for the video)
STATEFUL: dict[str, StatefulRun] = {**video_blocks.STATEFUL, "trace_visualization": trace_visualization,
                                    "background_subtraction": motion.background_subtraction,
                                    "motion_detection": motion.motion_detection,
                                    "frame_delay": video_memory.frame_delay, "rate_limiter": video_memory.rate_limiter,
                                    "track_class_lock": video_memory.track_class_lock,
                                    "continue_if": _continue_if_delayed}


# blocks that take every element of a nested batch in one call
BATCHED: dict[str, Callable[[ModelProvider, dict[str, Any], list[Image]], list[dict[str, Any]]]] = {
    "object_detection": _detect_all, "instance_segmentation": _detect_all, "keypoint_detection": _detect_all,
}


def run_block(block: BlockSpec, models: ModelProvider, params: dict[str, Any],
              frame: VideoFrame | None = None, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a block, once per element when a per-element parameter (or a value of a ``selectors`` object) is a
    Batch (crops). A stateful block runs on the ``frame`` with its ``state`` for the frame's video (the
    compiler keeps such blocks off nested batches)."""
    for name, kind in block.params.items():
        if kind == "predictions" and isinstance(params.get(name), dict):  # given as an input, serialised
            params = {**params, name: Detections.parse(params[name])}
    if block.keeps_state(params):
        if frame is None or state is None:
            raise ValueError(f"block {block.name} keeps state per video: it needs the frame and its state")
        return STATEFUL[block.name](params, frame, state)
    run = RUNS[block.name]
    batched: list[tuple[str, str | int | None]] = []  # (parameter, key of a selectors object or list, or None)
    for name, kind in block.params.items():
        value = params.get(name)
        if kind in PER_ELEMENT_KINDS and isinstance(value, Batch):
            batched.append((name, None))
        elif kind == "selectors" and isinstance(value, dict):
            batched += [(name, key) for key, v in value.items() if isinstance(v, Batch)]
        elif kind == "predictions_list" and isinstance(value, list) and not isinstance(value, Batch):
            batched += [(name, index) for index, v in enumerate(value) if isinstance(v, Batch)]
    if not batched:
        return run(models, params)
    name, key = batched[0]
    size = len(params[name] if key is None else params[name][key])
    outputs = (CONTINUE,) if block.flow_control else block.outputs_of(params)
    nested = any(isinstance(v, Batch) for v in params[name]) if key is None else False
    if block.name in BATCHED and batched == [("images", None)] and not nested:
        present = [i for i, image in enumerate(params["images"]) if image is not None]
        answers = dict(zip(present, BATCHED[block.name](models, params, [params["images"][i] for i in present]),
                           strict=True))
        results = [answers.get(i) for i in range(size)]
    else:
        # an element may itself be a Batch (crops of crops): it runs once per element again
        results = [_run_element(lambda m, p: run_block(block, m, p), models, params, batched, i) for i in range(size)]
    return {out: Batch(None if r is None else r[out] for r in results) for out in outputs}


def _run_element(run: Run, models: ModelProvider, params: dict[str, Any],
                 batched: list[tuple[str, str | int | None]], i: int) -> dict[str, Any] | None:
    element = dict(params)
    for name, key in batched:
        if key is None:
            element[name] = params[name][i]
        elif isinstance(key, int):
            element[name] = [*element[name][:key], params[name][key][i], *element[name][key + 1:]]
        else:
            element[name] = {**element[name], key: params[name][key][i]}
        if (element[name] if key is None else element[name][key]) is None:
            return None  # this element's branch was stopped
    return run(models, element)
