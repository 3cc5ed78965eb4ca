"""Checks on every staged file: names, sizes, content sniffing, decodability, decompression bombs.

A rejected file becomes a failed-file record with a ``failure_type`` and a human-readable reason; the rest
of its shard is still ingested.
"""

from __future__ import annotations

import posixpath
import tarfile

import cv2
import numpy as np

from shared.images import MAX_IMAGE_PIXELS, image_dimensions

MAX_IMAGE_BYTES = 20 * 1024 * 1024
# bytes of UTF-8, as most file systems allow (clients write each file under its name); it also keeps every
# object key far below S3's 1,024-byte limit
MAX_NAME_BYTES = 255


class FileRejected(Exception):
    """A file that cannot be staged, with a failure type clients can group on."""

    def __init__(self, failure_type: str, reason: str) -> None:
        super().__init__(reason)
        self.failure_type = failure_type
        self.reason = reason


FOLDER_SEPARATOR = "__"


def check_name(name: str) -> str:
    """A safe, flat file name: no absolute paths, no '..', no control characters, and folders joined into
    the name with ``__`` (``cam1/0001.jpg`` is staged as ``cam1__0001.jpg``). Served names are flat because
    clients write each file under its name in one folder (inference-cli's ``export-batch`` creates none)."""
    if not name or len(name.encode("utf-8", "surrogatepass")) > 4 * MAX_NAME_BYTES:
        raise FileRejected("invalid-file-name", f"file names are 1 to {MAX_NAME_BYTES} bytes (UTF-8)")
    if any(ord(c) < 32 for c in name) or "\\" in name:
        raise FileRejected("invalid-file-name", "file name contains control characters or backslashes")
    if name.startswith("/"):
        raise FileRejected("unsafe-path", "absolute paths are not allowed")
    norm = posixpath.normpath(name)
    if norm.startswith("..") or "/../" in f"/{name}/" or norm in (".", ""):
        raise FileRejected("unsafe-path", "paths may not leave the batch ('..')")
    flat = norm.replace("/", FOLDER_SEPARATOR)
    if len(flat.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise FileRejected("invalid-file-name", f"file names are 1 to {MAX_NAME_BYTES} bytes (UTF-8); "
                                                f"{flat[:40]}... is longer")
    return flat


def sniff_image(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:2] == b"BM":
        return "image/bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xff\x4f\xff\x51":
        return "image/jp2"  # JPEG 2000 (a .jp2 box file, or a bare codestream)
    return None


_ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")  # WMV/ASF


def sniff_video(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "video/x-msvideo"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    if data[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3") or data[:1] == b"\x47":
        return "video/mpeg"
    if data[:3] == b"FLV":
        return "video/x-flv"
    if data[:16] == _ASF_HEADER:
        return "video/x-ms-wmv"
    if data[:4] == b"OggS":
        return "video/ogg"
    return None


def check_image(name: str, data: bytes) -> str:
    """Validate one image; returns its content type or raises ``FileRejected``."""
    if not data:
        raise FileRejected("empty-file", f"{name} is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise FileRejected("file-size-limit-exceeded", f"{name} is {len(data)} bytes; images are limited to 20 MiB")
    content_type = sniff_image(data)
    if content_type is None:
        raise FileRejected("unsupported-content",
                           f"{name} is not an image (JPEG, PNG, BMP, GIF, WEBP, TIFF or JPEG 2000)")
    dims = image_dimensions(data)
    if dims is None:
        raise FileRejected("corrupted-file", f"{name}: its header does not give its size")
    if dims[0] * dims[1] > MAX_IMAGE_PIXELS:
        raise FileRejected("image-too-large", f"{name} is {dims[0]}x{dims[1]} pixels; the limit is "
                                              f"{MAX_IMAGE_PIXELS} pixels")
    if dims[0] == 0 or dims[1] == 0:
        raise FileRejected("corrupted-file", f"{name} declares an empty image")
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    except cv2.error:  # OpenCV's own limit (shared.images.limit_decoder_pixels): its reading of the size
        raise FileRejected("image-too-large", f"{name} is larger than {MAX_IMAGE_PIXELS} pixels") from None
    if decoded is None or decoded.size == 0:
        raise FileRejected("corrupted-file", f"{name} could not be decoded")
    return content_type


def check_video(name: str, head: bytes) -> str:
    content_type = sniff_video(head)
    if content_type is None:
        raise FileRejected("unsupported-content",
                           f"{name} is not a video (MP4, MOV, AVI, MKV, WEBM, MPEG, FLV, WMV or OGG)")
    return content_type


def check_tar_member(member: tarfile.TarInfo,
                     earlier: dict[str, tarfile.TarInfo]) -> tuple[str, tarfile.TarInfo]:
    """A tar entry that may be staged, with a safe name and a size within limits, and the member that holds its
    bytes: itself, or for a hard link the regular file it names earlier in the archive (``earlier``, by
    normalised name). Folders packed by tar, Python's tarfile or inference-cli store every further name of a
    hard-linked file as such a link. Symbolic links, and hard links to anything else, are refused."""
    name = check_name(member.name)
    if member.issym():
        raise FileRejected("unsafe-path", f"{member.name}: symbolic links are not allowed in archives")
    if member.islnk():
        target = earlier.get(posixpath.normpath(member.linkname))
        if target is None:
            raise FileRejected("unsafe-path", f"{member.name}: a hard link to {member.linkname}, which is not a "
                                              "regular file earlier in the archive")
        member = target
    if member.isdev() or member.isfifo() or member.ischr() or member.isblk():
        raise FileRejected("unsupported-content", f"{member.name}: device and special files are not allowed")
    if not member.isreg():
        raise FileRejected("unsupported-content", f"{member.name}: not a regular file")
    if member.size > MAX_IMAGE_BYTES:
        raise FileRejected("file-size-limit-exceeded",
                           f"{member.name} is {member.size} bytes; images are limited to 20 MiB")
    return name, member
