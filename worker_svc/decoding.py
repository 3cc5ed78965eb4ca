"""Decoding a task's images: at full size, or smaller where only the models will look at them.

JPEGs are decoded by libjpeg-turbo (simplejpeg) straight into BGR, except those EXIF says to turn, which
OpenCV decodes and turns. A model sees an image at its input size (416 px for the default network), so
decoding a 5 MP JPEG in full only to shrink it again wastes most of the decode. Where the workflow feeds the
image to models and nothing else (no crop, no visualisation, no output of the image itself), a JPEG at least
twice the models' input in both sides is decoded at 1/2, 1/4 or 1/8 of its size by libjpeg's DCT scaling
(OpenCV's ``IMREAD_REDUCED_*``, EXIF orientation applied as in a full decode), never below the input size;
the model blocks map their boxes back to the full image (``worker_svc.workflows.values.Image.scale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import simplejpeg

from shared.images import MAX_IMAGE_PIXELS, too_large
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
    if data[:2] == b"\xff\xd8":
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
            if width * height > MAX_IMAGE_PIXELS:  # libjpeg-turbo's reading of the size; it has no limit
                raise FileFailed(f"the image is not decoded: it is {width}x{height} pixels; the limit is "
                                 f"{MAX_IMAGE_PIXELS} pixels")
            scale = reduction(width, height, reduce_to) if reduce_to else 1
            if scale == 1 and exif_orientation(data) == 1:
                # libjpeg-turbo straight into BGR: the same pixels as OpenCV's decode, in 0.7 of its time
                return Decoded(simplejpeg.decode_jpeg(data, colorspace="BGR"))
        except ValueError:  # CMYK, or a header libjpeg-turbo cannot read: OpenCV decodes it or says why not
            scale = 1
    flag = _REDUCED[scale] if scale > 1 else cv2.IMREAD_COLOR
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:  # OpenCV's own limit (shared.images.limit_decoder_pixels), on its reading of the size
        raise FileFailed(f"the image is not decoded: it is larger than {MAX_IMAGE_PIXELS} pixels") from None
    if image is None:
        raise FileFailed("the image could not be decoded")
    if scale == 1:
        return Decoded(image)
    # EXIF orientation turns the decoded image: its sides follow the turned full image's
    turned = (image.shape[0] > image.shape[1]) != (height > width)
    return Decoded(image, scale, (height, width) if turned else (width, height))


def exif_orientation(jpeg: bytes) -> int:
    """The EXIF orientation tag of a JPEG (1, upright, where it has none): images to be turned are left to
    OpenCV, which turns them as it decodes."""
    at = 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF:
        marker, length = jpeg[at + 1], int.from_bytes(jpeg[at + 2:at + 4], "big")
        if marker == 0xDA:  # start of scan: no metadata after it
            break
        body = jpeg[at + 4:at + 2 + length]
        if marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            return _tiff_orientation(body[6:])
        at += 2 + length
    return 1


def _tiff_orientation(tiff: bytes) -> int:
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    try:
        ifd = int.from_bytes(tiff[4:8], order)
        for i in range(int.from_bytes(tiff[ifd:ifd + 2], order)):
            entry = tiff[ifd + 2 + 12 * i:ifd + 14 + 12 * i]
            if int.from_bytes(entry[:2], order) == 0x0112:
                return int.from_bytes(entry[8:10], order) or 1
    except (IndexError, ValueError):
        pass
    return 1
