"""Text reading (OCR) with PaddleOCR's PP-OCRv4 mobile models through RapidOCR, offline: the ONNX models ship in
the ``rapidocr_onnxruntime`` wheel (installed ``--no-deps``: it pins the non-headless OpenCV build, and only
needs ``cv2``, which the headless build provides).

One reader per worker process, built on first use (its three sessions take about half a second) and shared by
every task; runs are serialised, as the reader keeps per-call settings on itself.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TextLine:
    corners: list[tuple[float, float]]  # the line's quadrilateral, clockwise from top left
    text: str
    confidence: float

    def as_detection(self) -> dict[str, Any]:
        """Roboflow's OCR prediction: the line's bounding box, its text as the class."""
        xs, ys = [x for x, _ in self.corners], [y for _, y in self.corners]
        x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        return {"x": round((x1 + x2) / 2, 1), "y": round((y1 + y2) / 2, 1), "width": round(x2 - x1, 1),
                "height": round(y2 - y1, 1), "confidence": round(self.confidence, 4), "class": self.text,
                "class_id": 0, "detection_id": str(uuid.uuid4())}


class TextReader:
    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def _reader(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # a deployment that skipped it
                raise RuntimeError("OCR needs rapidocr_onnxruntime (pip install --no-deps "
                                   "rapidocr_onnxruntime==1.4.4; deploy/local/bootstrap.sh does)") from exc
            self._engine = RapidOCR(**({"intra_op_num_threads": self._threads} if self._threads else {}))
            self._engine.get_crop_img_list = line_crops
        return self._engine

    def read(self, image_bgr: np.ndarray, *, detect: bool = True, recognise: bool = True) -> list[TextLine]:
        """The image's text lines in reading order (top to bottom, then left to right). Without ``detect`` the
        whole image is one line; without ``recognise`` the lines have no text."""
        h, w = image_bgr.shape[:2]
        with self._lock:
            reader = self._reader()
            found, _ = reader(np.ascontiguousarray(image_bgr), use_det=detect, use_cls=detect, use_rec=recognise)
        if not found:
            return []
        lines = []
        whole = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
        for item in found:
            if not detect:  # [text, score]
                lines.append(TextLine(whole, str(item[0]), float(item[1])))
            elif not recognise:  # the box alone
                lines.append(TextLine([(float(x), float(y)) for x, y in item], "", 1.0))
            else:
                box, text, score = item
                lines.append(TextLine([(float(x), float(y)) for x, y in box], str(text), float(score)))
        # reading order: by the top of each line, then its left
        lines.sort(key=lambda line: (min(y for _, y in line.corners), min(x for x, _ in line.corners)))
        return lines


def line_crops(image: np.ndarray, boxes: Any) -> list[np.ndarray]:
    """Each detected line cut out and straightened, as RapidOCR cuts it (a crop as wide and high as the box's
    longer sides, a tall one turned a quarter), but sampled here (bilinear, edges repeated) instead of by OpenCV's
    warpPerspective, whose interpolation changed between OpenCV 4 and 5: the engine's environment (Roboflow's pin,
    OpenCV 4) and the services' (OpenCV 5) then read a line alike."""
    import cv2

    crops = []
    height, width = image.shape[:2]
    for box in boxes:
        corners = np.asarray(box, dtype=np.float32)
        w = max(1, int(max(np.linalg.norm(corners[0] - corners[1]), np.linalg.norm(corners[2] - corners[3]))))
        h = max(1, int(max(np.linalg.norm(corners[0] - corners[3]), np.linalg.norm(corners[1] - corners[2]))))
        rect = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        to_image = cv2.getPerspectiveTransform(rect, corners).astype(np.float64)  # crop pixel -> image point
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        mapped = to_image @ np.stack([xs.ravel(), ys.ravel(), np.ones(w * h)])
        sx, sy = mapped[0] / mapped[2], mapped[1] / mapped[2]
        x0, y0 = np.floor(sx), np.floor(sy)
        fx, fy = (sx - x0)[:, None], (sy - y0)[:, None]
        xa, xb = np.clip(x0, 0, width - 1).astype(int), np.clip(x0 + 1, 0, width - 1).astype(int)
        ya, yb = np.clip(y0, 0, height - 1).astype(int), np.clip(y0 + 1, 0, height - 1).astype(int)
        pixels = image.astype(np.float64)
        value = ((1 - fx) * (1 - fy) * pixels[ya, xa] + fx * (1 - fy) * pixels[ya, xb]
                 + (1 - fx) * fy * pixels[yb, xa] + fx * fy * pixels[yb, xb])
        crop = np.clip(np.rint(value), 0, 255).astype(np.uint8).reshape(h, w, -1)
        crops.append(np.rot90(crop) if h >= 1.5 * w else crop)
    return crops


def text_of(lines: list[TextLine]) -> str:
    """The whole text, one line per line."""
    return "\n".join(line.text for line in lines if line.text)
