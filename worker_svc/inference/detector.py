"""Object detection with onnxruntime: letterbox, batched inference, per-class NMS, Roboflow-shaped output.

Two output layouts are understood:

* ``boxes-scores``: ``boxes`` [N, A, 4] (x1, y1, x2, y2 in input pixels) and ``scores`` [N, A, C], as
  written by ``scheduler_svc.darknet`` (YOLOv4-tiny, YOLOv3-tiny);
* ``yolov8``: one output [N, 4 + C, A] (cx, cy, w, h, class scores), as exported by Ultralytics
  YOLOv8 / YOLO11; ``yolov8-seg`` adds mask coefficients and prototypes, ``yolov8-pose`` adds x, y and
  confidence of each keypoint after the class scores ([N, 4 + C + 3 K, A]).

It runs on the runtime its ``Execution`` names (``worker_svc.inference.runtimes``): onnxruntime by default, with
the CUDA execution provider when onnxruntime-gpu offers it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from worker_svc.inference.masks import mask_points
from worker_svc.inference.runtimes import Execution, Session
from worker_svc.inference.session_model import SessionModel
from worker_svc.workflows.values import box_iou, xyxy

Layout = Literal["boxes-scores", "yolov8", "yolov8-seg", "yolov8-pose"]
LETTERBOX_FILL = 114


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float


def letterbox(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    h, w = image_bgr.shape[:2]
    scale = min(size / h, size / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(image_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), LETTERBOX_FILL, np.uint8)
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas[py:py + nh, px:px + nw] = resized
    return canvas, Letterbox(scale, px, py)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression on x1y1x2y2 boxes; returns kept indices, best first."""
    order = scores.argsort()[::-1]
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = (xx2 - xx1).clip(0) * (yy2 - yy1).clip(0)
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


class OnnxDetector(SessionModel):
    def __init__(self, model_path: Path, class_names: list[str], *, input_size: int | None = None,
                 layout: Layout | None = None, threads: int | None = None, prefer_gpu: bool = True,
                 spin: bool = True, execution: Execution | None = None, cache_dir: Path | None = None,
                 sha256: str = "", keypoint_names: list[str] | None = None) -> None:
        self._open(model_path, threads, prefer_gpu, spin, execution, cache_dir, sha256)
        self.class_names = class_names
        self.keypoint_names = list(keypoint_names or [])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        fixed = inp.shape[2] if isinstance(inp.shape[2], int) else None
        self.input_size = int(input_size or fixed or 640)
        outputs = [o.name for o in self.session.get_outputs()]
        ranks = [len(o.shape) for o in self.session.get_outputs()]
        self.layout: Layout = layout or ("boxes-scores" if {"boxes", "scores"} <= set(outputs)
                                         else "yolov8-seg" if 4 in ranks else "yolov8")
        if self.layout == "yolov8-pose" and not self.keypoint_names:
            raise ValueError("a keypoint detection model needs its keypoint names")

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    def preprocess(self, images_bgr: list[np.ndarray]) -> tuple[np.ndarray, list[Letterbox]]:
        batch = np.empty((len(images_bgr), 3, self.input_size, self.input_size), np.float32)
        boxes = []
        for i, img in enumerate(images_bgr):
            canvas, lb = letterbox(img, self.input_size)
            # RGB planes scaled to 0..1, written in place in float32 (a float64 temporary took 4x as long)
            np.multiply(canvas[:, :, ::-1].transpose(2, 0, 1), np.float32(1.0 / 255.0), out=batch[i],
                        dtype=np.float32, casting="unsafe")
            boxes.append(lb)
        return batch, boxes

    def infer(self, batch: np.ndarray, session: Session | None = None) -> tuple[np.ndarray, ...]:
        """Raw model output as (boxes x1y1x2y2 [N, A, 4], class scores [N, A, C]) in input pixels; the seg
        layout adds (mask coefficients [N, A, M], prototypes [N, M, h, w]), the pose layout (keypoints
        [N, A, K, 3]: x, y in input pixels and confidence)."""
        session = session or self.session
        if self.layout == "boxes-scores":
            boxes, scores = session.run(["boxes", "scores"], {self.input_name: batch})
            return boxes, scores
        outputs = session.run(None, {self.input_name: batch})
        out = next(o for o in outputs if o.ndim == 3).transpose(0, 2, 1)  # [N, A, 4 + C (+ M)]
        cxcy, wh = out[..., :2], out[..., 2:4]
        boxes = np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=-1)
        classes = len(self.class_names)
        if self.layout == "yolov8-pose":
            keypoints = out[..., 4 + classes:]
            return boxes, out[..., 4:4 + classes], keypoints.reshape(*keypoints.shape[:2], -1, 3)
        if self.layout != "yolov8-seg":
            return boxes, out[..., 4:]
        protos = next(o for o in outputs if o.ndim == 4)
        return boxes, out[..., 4:4 + classes], out[..., 4 + classes:], protos

    def postprocess(self, boxes: np.ndarray, scores: np.ndarray, lb: Letterbox, image_shape: tuple[int, ...], *,
                    confidence: float, iou_threshold: float, max_detections: int,
                    class_filter: set[str] | None = None, class_agnostic_nms: bool = False,
                    max_candidates: int | None = None, masks: tuple[np.ndarray, np.ndarray] | None = None,
                    mask_decode: tuple[str, float] = ("accurate", 0.0), keypoints: np.ndarray | None = None,
                    keypoint_confidence: float = 0.0) -> list[dict[str, Any]]:
        class_ids = scores.argmax(axis=1)
        conf = scores[np.arange(scores.shape[0]), class_ids]
        mask = conf >= confidence
        if class_filter:
            allowed = np.array([n in class_filter for n in self.class_names])
            mask &= allowed[class_ids]
        anchors = np.nonzero(mask)[0]  # which anchor each candidate is (its mask coefficients)
        boxes, conf, class_ids = boxes[mask], conf[mask], class_ids[mask]
        if not len(conf):
            return []
        if max_candidates is not None and len(conf) > max_candidates:  # NMS sees the most confident only
            best = np.argsort(-conf, kind="stable")[:max_candidates]
            boxes, conf, class_ids, anchors = boxes[best], conf[best], class_ids[best], anchors[best]
        # class-offset trick: one NMS pass that never suppresses across classes (unless asked to)
        offset = 0.0 if class_agnostic_nms else class_ids[:, None].astype(np.float32) * (self.input_size * 4)
        keep = nms(boxes + offset, conf, iou_threshold)[:max_detections]
        h, w = image_shape[:2]
        out = []
        for i in keep:
            x1, y1, x2, y2 = boxes[i]
            x1, x2 = np.clip([(x1 - lb.pad_x) / lb.scale, (x2 - lb.pad_x) / lb.scale], 0, w)
            y1, y2 = np.clip([(y1 - lb.pad_y) / lb.scale, (y2 - lb.pad_y) / lb.scale], 0, h)
            cid = int(class_ids[i])
            found = {
                "x": round(float(x1 + x2) / 2, 1), "y": round(float(y1 + y2) / 2, 1),
                "width": round(float(x2 - x1), 1), "height": round(float(y2 - y1), 1),
                "confidence": round(float(conf[i]), 4),
                "class": self.class_names[cid] if cid < len(self.class_names) else str(cid),
                "class_id": cid, "detection_id": str(uuid.uuid4()),
            }
            if masks is not None:
                coefficients, protos = masks
                found["points"] = mask_points(coefficients[anchors[i]], protos, (x1, y1, x2, y2),
                                              input_size=self.input_size, scale=lb.scale, pad=(lb.pad_x, lb.pad_y),
                                              image_wh=(w, h), mode=mask_decode[0], tradeoff_factor=mask_decode[1])
            if keypoints is not None:
                found["keypoints"] = self._keypoints(keypoints[anchors[i]], lb, keypoint_confidence)
            out.append(found)
        return out

    def _keypoints(self, points: np.ndarray, lb: Letterbox, minimum: float) -> list[dict[str, Any]]:
        """One anchor's keypoints [K, 3] in the image's coordinates, those below ``minimum`` confidence left out
        (Roboflow's keypoint_confidence)."""
        return [{"x": round(float((x - lb.pad_x) / lb.scale), 1), "y": round(float((y - lb.pad_y) / lb.scale), 1),
                 "confidence": round(float(c), 4), "class_id": k, "class": self.keypoint_names[k]}
                for k, (x, y, c) in enumerate(points) if c >= minimum]

    def detect(self, images_bgr: list[np.ndarray], *, confidence: float = 0.4, iou_threshold: float = 0.45,
               max_detections: int = 300, class_filter: set[str] | None = None, class_agnostic_nms: bool = False,
               max_candidates: int | None = None, mask_decode: tuple[str, float] = ("accurate", 0.0),
               keypoint_confidence: float = 0.0, session: Session | None = None) -> list[list[dict[str, Any]]]:
        """Detections per image; on ``session`` if given (one lane, as a benchmark's loop drives it), else
        through the model's lanes and batches."""
        if not images_bgr:
            return []
        batch, letterboxes = self.preprocess(images_bgr)
        outputs = self.infer(batch, session=session) if session is not None else self.run_batch(batch)
        boxes, scores = outputs[0], outputs[1]
        return [
            self.postprocess(boxes[i], scores[i], letterboxes[i], images_bgr[i].shape, confidence=confidence,
                             iou_threshold=iou_threshold, max_detections=max_detections, class_filter=class_filter,
                             class_agnostic_nms=class_agnostic_nms, max_candidates=max_candidates,
                             masks=(outputs[2][i], outputs[3][i]) if len(outputs) == 4 else None,
                             mask_decode=mask_decode, keypoints=outputs[2][i] if self.layout == "yolov8-pose" else None,
                             keypoint_confidence=keypoint_confidence)
            for i in range(len(images_bgr))
        ]

    def gate_outputs(self, images_bgr: list[np.ndarray], session: Session) -> list[Any]:
        """Each image's detections at confidence 0.25 (the gate's threshold), one image per run."""
        found = []
        for image in images_bgr:
            batch, (lb,) = self.preprocess([image])
            boxes, scores = self.infer(batch, session=session)[:2]
            found.append(self.postprocess(boxes[0], scores[0], lb, image.shape, confidence=GATE_CONFIDENCE,
                                          iou_threshold=0.45, max_detections=300))
        return found

    def agreement(self, reference: list[Any], candidate: list[Any]) -> tuple[float, float, int]:
        """The share of the reference's detections matched by one of the candidate's of the same class at IoU
        >= 0.9 (each matched once), the share of the candidate's matched by the reference's, and how many
        the reference found."""
        matched, ours, theirs = 0, 0, 0
        for ref, cand in zip(reference, candidate, strict=True):
            pairs = sorted(((box_iou(xyxy(a), xyxy(b)), i, j) for i, a in enumerate(ref)
                            for j, b in enumerate(cand) if a["class_id"] == b["class_id"]), reverse=True)
            used_ref: set[int] = set()
            used_cand: set[int] = set()
            for iou, i, j in pairs:
                if iou < GATE_IOU:
                    break
                if i not in used_ref and j not in used_cand:
                    used_ref.add(i)
                    used_cand.add(j)
            matched += len(used_ref)
            ours += len(ref)
            theirs += len(cand)
        return (matched / ours if ours else 1.0), (matched / theirs if theirs else 1.0), ours


GATE_CONFIDENCE = 0.25
GATE_IOU = 0.9

