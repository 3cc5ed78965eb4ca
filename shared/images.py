"""Image sizes read from headers alone, for every format Conveyor accepts (JPEG, PNG, GIF, BMP, WebP, TIFF,
JPEG 2000): ingest refuses, and the worker will not decode, an image of more than ``MAX_IMAGE_PIXELS`` — a
decompression bomb of a few MB would otherwise take gigabytes of a shared process.

A header can state a size twice (a TIFF with two ImageWidth tags, a PNG with two IHDR chunks): the reader
here takes the one the decoder uses, and a fuzz test holds it to what OpenCV decodes. The decoder checks
again by itself: ``limit_decoder_pixels`` sets OpenCV's own pixel limit, which it reads from the environment
once, when it is loaded, so the services that decode call it before anything imports ``cv2``.
"""

from __future__ import annotations

import os
import struct
import sys

MAX_IMAGE_PIXELS = 100_000_000
DECODER_LIMIT_ENV = "OPENCV_IO_MAX_IMAGE_PIXELS"


def limit_decoder_pixels() -> None:
    """OpenCV refuses to decode more than ``MAX_IMAGE_PIXELS`` (an error, before any pixel buffer exists),
    whatever size a header reader here saw. Raises if ``cv2`` was loaded before without that limit."""
    if "cv2" not in sys.modules:
        os.environ[DECODER_LIMIT_ENV] = str(MAX_IMAGE_PIXELS)
        return
    if not decoder_refuses_bombs():
        raise RuntimeError(f"cv2 was imported before its pixel limit ({DECODER_LIMIT_ENV}) was set: call "
                           "shared.images.limit_decoder_pixels() first")


def decoder_refuses_bombs() -> bool:
    """Whether OpenCV refuses an image past the limit from its header alone (with no limit it reads the
    header of this pixel-less bitmap, finds no pixels and answers None)."""
    import cv2
    import numpy as np

    side = int(MAX_IMAGE_PIXELS**0.5) + 1
    bitmap = b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0,
                                                                          0, 0, 0, 0)
    try:
        cv2.imdecode(np.frombuffer(bitmap, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        return True
    return False


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _tiff(data: bytes) -> tuple[int, int] | None:
    """ImageWidth (256) and ImageLength (257) of the first IFD, the page a decoder reads; of a tag stated twice,
    the first, as libtiff keeps (it ignores later duplicates)."""
    order = "<" if data[:2] == b"II" else ">"
    if len(data) < 8:
        return None
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return None
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    found: dict[int, int] = {}
    for n in range(min(count, 512)):
        entry = data[ifd + 2 + 12 * n:ifd + 14 + 12 * n]
        if len(entry) < 12:
            break
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):  # SHORT (3) or LONG values, held in the entry itself
            short = kind == 3
            value = struct.unpack(order + ("H" if short else "I"), entry[8:10] if short else entry[8:12])[0]
            found.setdefault(tag, value)
    return (found[256], found[257]) if len(found) == 2 else None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        (bits,) = struct.unpack("<I", data[21:25])
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    return None


def _jp2(data: bytes) -> tuple[int, int] | None:
    at = data.find(b"ihdr", 0, 4096)  # the image header box of a .jp2 file: height, then width
    if at >= 0 and at + 12 <= len(data):
        h, w = struct.unpack(">II", data[at + 4:at + 12])
        return w, h
    at = data.find(b"\xff\x51", 0, 4096)  # SIZ marker of a bare codestream: Xsiz, Ysiz, XOsiz, YOsiz
    if at >= 0 and at + 22 <= len(data):
        x, y, x0, y0 = struct.unpack(">IIII", data[at + 6:at + 22])
        return x - x0, y - y0
    return None


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header, without decoding pixels; None when the header does not say."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        if struct.unpack("<I", data[14:18])[0] == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sides
            return struct.unpack("<HH", data[18:22])
        w, h = struct.unpack("<ii", data[18:26])
        return abs(w), abs(h)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xff\x4f\xff\x51":
        return _jp2(data)
    return None


def too_large(data: bytes) -> str | None:
    """Why the image must not be decoded (a pixel bomb, or a size the header hides), or None."""
    dims = image_dimensions(data)
    if dims is None:
        return "its header does not give its size"
    if dims[0] * dims[1] > MAX_IMAGE_PIXELS:
        return f"it is {dims[0]}x{dims[1]} pixels; the limit is {MAX_IMAGE_PIXELS} pixels"
    return None
