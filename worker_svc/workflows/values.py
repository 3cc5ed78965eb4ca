"""Values flowing between Workflow steps, and their Roboflow-shaped serialisation."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.video_state import VideoMetadata

CONTINUE = "continue"  # the result key of a flow-control step: whether the steps it names run


@dataclass
class Image:
    """An image inside a workflow run; crops remember their parent and offset."""

    array: np.ndarray  # BGR, HxWx3
    parent_id: str
    offset: tuple[int, int] = (0, 0)
    # an input decoded smaller (worker_svc.decoding): full-size pixels per array pixel, and the full size
    scale: int = 1
    full_size: tuple[int, int] | None = None
    root_id: str | None = None  # a crop's: the input image it was cut from (its parent may be another crop)
    video: VideoMetadata | None = None  # the input image's: which frame of which video it is
    # a crop's: where it lies in the input image it was cut from (None for the input image itself)
    cut_at: Placement | None = None

    @property
    def placement(self) -> Placement:
        """Where this image lies in the input image it was cut from (the input image's own: all of it)."""
        return self.cut_at or Placement(self.root, (0, 0), (self.width, self.height))

    @property
    def root(self) -> str:
        return self.root_id or self.parent_id

    def redrawn(self, pixels: np.ndarray) -> Image:
        """A step's new image in the place of this one (same parent, offset and root), three-channel as every
        image here: grey levels become three equal channels."""
        if pixels.ndim == 2:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        return Image(np.ascontiguousarray(pixels), parent_id=self.parent_id, offset=self.offset, root_id=self.root_id,
                     cut_at=self.cut_at)

    @property
    def width(self) -> int:
        return self.full_size[0] if self.full_size else int(self.array.shape[1])

    @property
    def height(self) -> int:
        return self.full_size[1] if self.full_size else int(self.array.shape[0])

    def to_full_size(self, d: dict[str, Any]) -> dict[str, Any]:
        """A detection found on the decoded array, in the full image's coordinates."""
        if self.scale == 1:
            return d
        x1, y1, x2, y2 = (min(max(v * self.scale, 0.0), limit) for v, limit in zip(
            xyxy(d), (self.width, self.height) * 2, strict=True))
        found = with_xyxy(d, x1, y1, x2, y2)
        found = {**found, **{k: round(float(found[k]), 1) for k in ("x", "y", "width", "height")}}
        if "points" in d:
            found["points"] = [{"x": p["x"] * self.scale, "y": p["y"] * self.scale} for p in d["points"]]
        if "keypoints" in d:
            found["keypoints"] = [{**k, "x": round(k["x"] * self.scale, 1), "y": round(k["y"] * self.scale, 1)}
                                  for k in d["keypoints"]]
        return found


@dataclass(frozen=True)
class EncodedImage:
    """An image output that arrives already encoded as JPEG (from the Workflows Execution Engine)."""

    data: bytes


@dataclass(frozen=True)
class Placement:
    """The input image an image (or its detections) belongs to: its id, where the image lies in it, its size."""

    root_id: str
    origin: tuple[int, int]
    root_size: tuple[int, int]
    parent_size: tuple[int, int] | None = None  # the size of the image it was cut from (None: the input image)


def origin(offset: tuple[int, int], size: tuple[int, int]) -> dict[str, int]:
    """Roboflow's ``parent_origin``: where an image lies in another one, and that other one's size."""
    return {"offset_x": int(offset[0]), "offset_y": int(offset[1]), "width": int(size[0]), "height": int(size[1])}


@dataclass
class Detections:
    width: int
    height: int
    items: list[dict[str, Any]] = field(default_factory=list)
    parent_id: str = "image"
    # where the image these detections are relative to (a crop, a slice) lies in its parent image
    offset: tuple[int, int] = (0, 0)
    # where it lies in the input image: None for the input image itself
    placement: Placement | None = None

    def with_items(self, items: list[dict[str, Any]]) -> Detections:
        return Detections(self.width, self.height, items, self.parent_id, self.offset, self.placement)

    def in_input_image(self) -> Detections:
        """These detections in the input image's coordinates, as Roboflow outputs them unless an output asks for
        the image's own (``coordinates_system: own``)."""
        at = self.placement
        if at is None or (at.origin == (0, 0) and at.root_size == (self.width, self.height)):
            return self
        dx, dy = at.origin
        return Detections(at.root_size[0], at.root_size[1], [moved(d, dx, dy) for d in self.items], at.root_id)

    @classmethod
    def parse(cls, value: dict[str, Any]) -> Detections:
        """Detections given as Roboflow serialises them (a WorkflowBatchInput of predictions, from an image's
        metadata)."""
        image, items = value.get("image"), value.get("predictions")
        if not isinstance(image, dict) or not isinstance(items, list) or not all(
                isinstance(d, dict) and {"x", "y", "width", "height"} <= set(d) for d in items):
            raise ValueError("predictions must be Roboflow's serialised detections: {'image': {'width', 'height'}, "
                             "'predictions': [{'x', 'y', 'width', 'height', ...}]}")
        return cls(int(image["width"]), int(image["height"]), [dict(d) for d in items])

    def serialize(self) -> dict[str, Any]:
        return {"image": {"width": self.width, "height": self.height},
                # a detection derived from another one (an offset box) names that one as its parent
                "predictions": [self._origins({"parent_id": self.parent_id, **_sides(d)}) for d in self.items]}

    def _origins(self, d: dict[str, Any]) -> dict[str, Any]:
        """A detection whose parent is not the input image says, as Roboflow's serialiser does, where its parent
        lies in the input image and which input image that is."""
        at = self.placement or Placement(self.parent_id, (0, 0), (self.width, self.height))
        if d["parent_id"] == at.root_id:
            return d
        return d | {"parent_origin": origin(self.offset, at.parent_size or at.root_size), "root_parent_id": at.root_id,
                    "root_parent_origin": origin(at.origin, at.root_size)}


def _sides(d: dict[str, Any]) -> dict[str, Any]:
    """A bounding rectangle's sides written over the box's width and height, as Roboflow serialises them (the
    box stays the detection's for every block after)."""
    if "rect_width" not in d:
        return d
    out = {k: v for k, v in d.items() if k not in ("rect_width", "rect_height")}
    return out | {"width": d["rect_width"], "height": d["rect_height"]}


@dataclass
class Classification:
    payload: dict[str, Any]

    def serialize(self) -> dict[str, Any]:
        return self.payload


class Batch(list):
    """Values of a nested dimension (one per crop); steps fed a Batch run once per element."""


def xyxy(d: dict[str, Any]) -> tuple[float, float, float, float]:
    """A detection's box as its corners (detections are kept as Roboflow serialises them: centre and size)."""
    return d["x"] - d["width"] / 2, d["y"] - d["height"] / 2, d["x"] + d["width"] / 2, d["y"] + d["height"] / 2


def with_xyxy(d: dict[str, Any], x1: float, y1: float, x2: float, y2: float) -> dict[str, Any]:
    """The detection with another box, given by its corners."""
    return {**d, "x": (x1 + x2) / 2, "y": (y1 + y2) / 2, "width": x2 - x1, "height": y2 - y1}


def box_around(items: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    """The corners of the smallest box around the detections' boxes."""
    corners = np.array([xyxy(d) for d in items])
    (x1, y1), (x2, y2) = corners[:, :2].min(axis=0), corners[:, 2:].max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def outline(d: dict[str, Any]) -> np.ndarray:
    """A segmented detection's polygon as (x, y) rows, for a block that needs one (a mask of an instance
    segmentation model); the runner's error names the step and its block."""
    if not d.get("points") or len(d["points"]) < 3:
        raise ValueError("needs masks: the output of an instance segmentation model")
    return np.array([[q["x"], q["y"]] for q in d["points"]], dtype=np.float64)


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes (0 for two empty ones)."""
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def tracked(detections: Detections) -> Detections:
    """The detections, which must come from a tracker (every one has a ``tracker_id``); the runner's error names
    the step and its block."""
    if detections.items and not all("tracker_id" in d for d in detections.items):
        raise ValueError("needs tracked detections (a tracker's output, with tracker_id)")
    return detections


def moved(d: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    """The detection shifted by (dx, dy): its box, polygon and keypoints."""
    out = {**d, "x": d["x"] + dx, "y": d["y"] + dy}
    if "points" in d:
        out["points"] = [{**q, "x": q["x"] + dx, "y": q["y"] + dy} for q in d["points"]]
    if "keypoints" in d:
        out["keypoints"] = [{**k, "x": k["x"] + dx, "y": k["y"] + dy} for k in d["keypoints"]]
    return out


def new_detection_id() -> str:
    return str(uuid.uuid4())


def serialize(value: Any, *, on_image: Any = None) -> Any:
    """JSON-ready form of an output; images go through ``on_image(image) -> reference or None``."""
    if isinstance(value, Batch | list | tuple):
        return [serialize(v, on_image=on_image) for v in value]
    if isinstance(value, Detections | Classification | VideoMetadata):
        return value.serialize()
    if isinstance(value, Image | EncodedImage):
        return on_image(value) if on_image else None
    if isinstance(value, dict):
        return {k: serialize(v, on_image=on_image) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime.datetime):  # as Roboflow's engine serialises a timestamp
        return value.isoformat()
    return value


def encode_jpeg(image: Image | EncodedImage, quality: int = 90) -> bytes:
    if isinstance(image, EncodedImage):
        return image.data
    ok, buf = cv2.imencode(".jpg", image.array, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode image")
    return buf.tobytes()
