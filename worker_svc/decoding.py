"""Decoding a task's images: at full size, or smaller where only the models will look at them.

A model sees an image at its input size (416 px for the default network), so decoding a 5 MP JPEG in full
only to shrink it again wastes most of the decode. Where the workflow feeds the image to models and nothing
else (no crop, no visualisation, no output of the image itself), a JPEG at least twice the models' input in
both sides is decoded at 1/2, 1/4 or 1/8 of its size by libjpeg's DCT scaling (OpenCV's ``IMREAD_REDUCED_*``,
EXIF orientation applied as in a full decode), never below the input size; the model blocks map their boxes
back to the full image (``worker_svc.workflows.values.Image.scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import simplejpeg

from shared.images import too_large
from worker_svc.errors import FileFailed

_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


@dataclass(frozen=True)
class Decoded:
    array: np.ndarray  # BGR, HxWx3
    scale: int = 1  # full-size pixels per decoded pixel (1, 2, 4 or 8)
    full_size: tuple[int, int] | None = None  # (width, height) of the full image, where scale > 1


def reduction(width: int, height: int, min_side: int) -> int:
    """The largest DCT scale k (8, 4, 2) with both sides at least k times ``min_side``; 1 for none."""
    return next((k for k in (8, 4, 2) if width >= k * min_side and height >= k * min_side), 1)


def decode_image(data: bytes, reduce_to: int | None = None) -> Decoded:
    """The image, decoded smaller where ``reduce_to`` (the models' input size) allows it."""
    refused = too_large(data)  # checked at ingest too; never trust a shared process's memory to that alone
    if refused:
        raise FileFailed(f"the image is not decoded: {refused}")
    scale = 1
    if reduce_to and data[:2] == b"\xff\xd8":
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
            scale = reduction(width, height, reduce_to)
        except ValueError:  # a JPEG libjpeg-turbo cannot read the header of: OpenCV says what is wrong
            scale = 1
    flag = _REDUCED[scale] if scale > 1 else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if image is None:
        raise FileFailed("the image could not be decoded")
    if scale == 1:
        return Decoded(image)
    # EXIF orientation turns the decoded image: its sides follow the turned full image's
    turned = (image.shape[0] > image.shape[1]) != (height > width)
    return Decoded(image, scale, (height, width) if turned else (width, height))
