"""The size Conveyor checks is the size the decoder uses: headers that state a size twice, or two sizes that
disagree, in every accepted format, against what OpenCV (with its pixel limit set) really decodes."""

import random
import struct
import zlib

import cv2
import numpy as np
import pytest

from ingest_svc.validation import FileRejected, check_image
from shared.images import MAX_IMAGE_PIXELS, decoder_refuses_bombs, image_dimensions, too_large
from worker_svc.decoding import decode_image
from worker_svc.errors import FileFailed

W, H = 64, 48
BIG = (12_000, 10_000)  # 120 Mpx: past the limit
SMALL = (100, 100)


def _image() -> np.ndarray:
    return (np.arange(W * H * 3) % 251).astype(np.uint8).reshape(H, W, 3)


def _encoded(ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, _image())
    assert ok
    return buf.tobytes()


def _tiff(sizes: list[tuple[int, int]], strip: int | None = None) -> bytes:
    """An uncompressed 8-bit grey TIFF whose IFD states ImageWidth and ImageLength once for each of ``sizes``
    (in that order); the strip holds pixels for the first (or ``strip`` bytes of them)."""
    w, h = sizes[0]
    pixels = (bytes(range(256)) * (w * h // 256 + 1))[:strip]
    entries = [(256, 4, 1, s[0]) for s in sizes] + [(257, 4, 1, s[1]) for s in sizes] + [
        (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, h),
        (279, 4, 1, w * h)]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    entries = [(t, k, c, data_at if t == 273 else v) for t, k, c, v in entries]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", t, k, c) + (struct.pack("<HH", v, 0) if k == 3 else struct.pack("<I", v))
        for t, k, c, v in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_at) + ifd + pixels[:w * h]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_second_ihdr(size: tuple[int, int]) -> bytes:
    png = _encoded(".png")
    ihdr = _png_chunk(b"IHDR", struct.pack(">II", *size) + png[24:29])
    return png[:33] + ihdr + png[33:]


def _jpeg_second_sof(size: tuple[int, int]) -> bytes:
    jpg = _encoded(".jpg")
    at = jpg.index(b"\xff\xc0")
    length = struct.unpack(">H", jpg[at + 2:at + 4])[0]
    sof = jpg[at:at + 2 + length]
    second = sof[:5] + struct.pack(">HH", size[1], size[0]) + sof[9:]
    return jpg[:at + 2 + length] + second + jpg[at + 2 + length:]


def _bmp_core() -> bytes:
    """An OS/2 bitmap: a 12-byte header with 16-bit sides (the 32-bit fields of Windows bitmaps are not there)."""
    row = (W * 3 + 3) // 4 * 4
    pixels = b"".join(_image()[::-1][y].tobytes().ljust(row, b"\0") for y in range(H))
    header = struct.pack("<IHHHH", 12, W, H, 1, 24)
    return b"BM" + struct.pack("<IHHI", 14 + 12 + len(pixels), 0, 0, 26) + header + pixels


def _gif_screen(size: tuple[int, int]) -> bytes:
    gif = _encoded(".gif")
    return gif[:6] + struct.pack("<HH", *size) + gif[10:]


def _webp_canvas(size: tuple[int, int]) -> bytes:
    """A lossless frame of 64x48 in an extended (VP8X) file whose canvas says ``size``."""
    webp = cv2.imencode(".webp", _image(), [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()
    frame = webp[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (size[0] - 1).to_bytes(3, "little") + (
        size[1] - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _jp2_ihdr(size: tuple[int, int]) -> bytes:
    jp2 = _encoded(".jp2")
    at = jp2.index(b"ihdr")
    return jp2[:at + 4] + struct.pack(">II", size[1], size[0]) + jp2[at + 12:]


CONTRADICTIONS = {
    "tiff, real size then a smaller one": _tiff([(W, H), (16, 16)]),
    "tiff, real size then a larger one": _tiff([(W, H), (4000, 3000)]),
    "png, a second IHDR, smaller": _png_second_ihdr((16, 16)),
    "png, a second IHDR, larger": _png_second_ihdr((4000, 3000)),
    "jpeg, a second SOF, smaller": _jpeg_second_sof((16, 16)),
    "jpeg, a second SOF, larger": _jpeg_second_sof((4000, 3000)),
    "bmp, OS/2 core header": _bmp_core(),
    "gif, screen smaller than the frame": _gif_screen((16, 16)),
    "gif, screen larger than the frame": _gif_screen((4000, 3000)),
    "webp, canvas smaller than the frame": _webp_canvas((16, 16)),
    "webp, canvas larger than the frame": _webp_canvas((4000, 3000)),
    "jp2, ihdr box smaller than the codestream": _jp2_ihdr((16, 16)),
    "jp2, ihdr box larger than the codestream": _jp2_ihdr((4000, 3000)),
}


def _decoded_size(data: bytes) -> tuple[int, int] | str | None:
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return "refused"
    return None if image is None else (image.shape[1], image.shape[0])


@pytest.mark.parametrize("name", CONTRADICTIONS)
def test_a_header_that_contradicts_itself_is_read_as_the_decoder_reads_it(name: str) -> None:
    data = CONTRADICTIONS[name]
    decoded = _decoded_size(data)
    if isinstance(decoded, tuple):
        assert image_dimensions(data) == decoded


def _mutants(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """``data`` with one to three of its header bytes (the first 64, and around every size field) changed."""
    out = []
    for _ in range(count):
        m = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            m[rng.randrange(min(len(m), 64))] = rng.randrange(256)
        out.append(bytes(m))
    return out


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".gif", ".webp", ".jp2", ".tiff"])
def test_random_header_damage_never_makes_the_checked_and_decoded_sizes_differ(ext: str) -> None:
    rng = random.Random(ext)
    seeds = [_encoded(ext)] + [d for n, d in CONTRADICTIONS.items() if n.startswith(ext[1:4].replace("jpg", "jpe"))]
    for mutant in (m for seed in seeds for m in _mutants(seed, rng, 150)):
        decoded = _decoded_size(mutant)
        if isinstance(decoded, tuple):
            assert image_dimensions(mutant) == decoded, mutant[:64].hex()


BOMBS = {
    "tiff": _tiff([BIG, SMALL], strip=4096),  # as found: the real size first, 100x100 second
    "png": b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", *BIG, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(bytes(4096))) + _png_chunk(b"IEND", b""),
    "bmp": b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHH", 40, *BIG, 1, 24) + bytes(24),
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_is_refused_by_the_header_check_and_by_the_decoder_itself(name: str) -> None:
    data = BOMBS[name]
    assert image_dimensions(data) == BIG
    assert too_large(data) == f"it is {BIG[0]}x{BIG[1]} pixels; the limit is {MAX_IMAGE_PIXELS} pixels"
    with pytest.raises(FileRejected) as refused:
        check_image("bomb", data)
    assert refused.value.failure_type == "image-too-large"
    with pytest.raises(FileFailed):
        decode_image(data)
    assert decoder_refuses_bombs()
    assert _decoded_size(data) == "refused"  # even if a header reader were fooled, OpenCV would not decode it


@pytest.mark.parametrize("module", ["ingest_svc.app", "worker_svc.app"])
def test_each_decoding_service_loads_opencv_with_its_pixel_limit(module: str) -> None:
    """In a fresh process, as the service starts: its modules import cv2, and the limit is on."""
    import subprocess
    import sys

    check = f"import {module}, cv2; from shared.images import decoder_refuses_bombs; exit(not decoder_refuses_bombs())"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True).returncode == 0
