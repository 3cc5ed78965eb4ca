"""Pure rules behind what the real client sees: flat names, formats it sends, page tokens, result records,
per-image parameters, parameter types."""

import base64
import json
import struct

import cv2
import numpy as np
import pytest

from ingest_svc.validation import FileRejected, check_image, check_name, sniff_image, sniff_video
from shared.errors import InvalidInput
from shared.images import image_dimensions
from shared.pagination import decode_token, encode_token, integer, text, timestamp
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.outline import check_parameter_values
from worker_svc.decoding import decode_image
from worker_svc.errors import FileFailed
from worker_svc.task_output import TaskOutput, image_parameters, record_of
from worker_svc.workflows.values import Image


def test_names_are_flat_and_folders_are_joined() -> None:
    assert check_name("cam1/0001.jpg") == "cam1__0001.jpg"
    assert check_name("./a/b/c.png") == "a__b__c.png"
    assert check_name("plain.jpg") == "plain.jpg"
    for bad in ("../x.jpg", "/abs.jpg", "a\\b.jpg", "x\x01.jpg", ""):
        with pytest.raises(FileRejected):
            check_name(bad)
    with pytest.raises(FileRejected, match="1 to 255 bytes"):
        check_name("d/" * 100 + "x.jpg")  # within the limit as given, past it once flattened
    with pytest.raises(FileRejected, match="1 to 255 bytes"):
        check_name("é" * 128 + ".jpg")  # 132 characters, 260 bytes
    assert check_name("é" * 120 + ".jpg") == "é" * 120 + ".jpg"


def test_the_formats_the_client_sends_are_recognised() -> None:
    jp2 = cv2.imencode(".jp2", np.zeros((40, 40, 3), np.uint8))[1].tobytes()
    assert sniff_image(jp2) == "image/jp2" and sniff_image(b"\xff\x4f\xff\x51" + b"\0" * 8) == "image/jp2"
    assert sniff_video(b"FLV\x01\x05" + b"\0" * 20) == "video/x-flv"
    assert sniff_video(bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\0" * 8) == "video/x-ms-wmv"
    assert sniff_video(b"OggS\x00\x02" + b"\0" * 20) == "video/ogg"
    assert sniff_video(b"plain text, not a video at all") is None


def test_a_page_token_is_valid_only_for_its_own_listing() -> None:
    token = encode_token("files", {"s": 41, "p": None})
    assert decode_token(token, "files", s=integer, p=lambda v: v) == {"s": 41, "p": None}
    assert decode_token(None, "files", s=integer) is None
    forged = base64.urlsafe_b64encode(json.dumps({"l": "files", "s": "41"}).encode()).decode()
    for bad, listing in ((token, "shards"), ("%%%", "files"), (forged, "files"),
                         (base64.urlsafe_b64encode(b"[1]").decode(), "files")):
        with pytest.raises(InvalidInput, match="nextPageToken"):
            decode_token(bad, listing, s=integer, p=lambda v: v)
    stamp = encode_token("jobs", {"c": "2026-12-01T10:00:00+00:00", "j": "a"})
    decoded = decode_token(stamp, "jobs", c=timestamp, j=text)
    assert decoded is not None and decoded["j"] == "a"
    naive = encode_token("jobs", {"c": "2026-12-01T10:00:00", "j": "a"})
    with pytest.raises(InvalidInput):
        decode_token(naive, "jobs", c=timestamp, j=text)


def test_records_keep_the_input_name_and_pictures_of_same_stem_apart() -> None:
    picture = Image(np.zeros((4, 4, 3), np.uint8), parent_id="x")
    output = TaskOutput()
    first = record_of({"vis": picture, "image": 3}, "a.jpg", {"vis"}, output)
    second = record_of({"vis": picture, "image": 4}, "a.png", {"vis"}, output)
    assert first == {"vis": "vis__a.jpg.jpg", "image_output": 3}
    assert second == {"vis": "vis__a.png.jpg", "image_output": 4}
    assert [n for n, _ in output.images] == ["vis__a.jpg.jpg", "vis__a.png.jpg"]
    crops = record_of({"crops": [picture, picture]}, "b.jpg", {"crops"}, output)
    assert crops == {"crops": ["crops__b.jpg.jpg", "crops__b.jpg__1.jpg"]}
    taken = record_of({"video": 1, "video_output": 2}, "c.jpg", set(), output)
    assert taken == {"video_output_output": 1, "video_output": 2}


def test_per_image_parameters_come_from_the_images_metadata() -> None:
    assert image_parameters({"confidence": "conf"}, {"conf": 0.5, "other": 1}) == {"confidence": 0.5}
    with pytest.raises(FileFailed, match="no record"):
        image_parameters({"confidence": "conf"}, None)
    with pytest.raises(FileFailed, match="lacks 'conf'"):
        image_parameters({"confidence": "conf"}, {"site": "a"})


def test_parameter_values_are_checked_against_kinds_and_defaults() -> None:
    definition = {"inputs": [
        {"type": "WorkflowImage", "name": "image"},
        {"type": "WorkflowParameter", "name": "confidence", "default_value": 0.3},
        {"type": "WorkflowParameter", "name": "classes", "kind": ["list_of_values"]},
        {"type": "WorkflowParameter", "name": "label", "kind": [{"name": "string"}]},
        {"type": "WorkflowParameter", "name": "anything", "kind": ["*"]},
        {"type": "WorkflowParameter", "name": "free"}]}
    check_parameter_values(definition, {"confidence": 1, "classes": ["a"], "label": "x", "anything": {}, "free": 1})
    for values in ({"confidence": "high"}, {"confidence": True}, {"classes": "a"}, {"label": 3}):
        with pytest.raises(WorkflowInvalid, match="expects"):
            check_parameter_values(definition, values)


def _tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF whose first IFD declares its size (LONG values) and nothing else."""
    entries = struct.pack("<HHII", 256, 4, 1, width) + struct.pack("<HHII", 257, 4, 1, height)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries + b"\x00" * 4 + b"\x00" * 64


def test_a_tiff_bomb_is_refused_at_ingest_and_never_decoded_by_the_worker() -> None:
    bomb = _tiff_header(20_000, 15_000)  # 300 Mpx declared in 100 bytes
    assert image_dimensions(bomb) == (20_000, 15_000)
    with pytest.raises(FileRejected) as refused:
        check_image("bomb.tif", bomb)
    assert refused.value.failure_type == "image-too-large"
    with pytest.raises(FileFailed, match="20000x15000 pixels"):
        decode_image(bomb)
    tiff = cv2.imencode(".tiff", np.zeros((30, 40, 3), np.uint8))[1].tobytes()
    assert check_image("ok.tif", tiff) == "image/tiff" and decode_image(tiff).array.shape == (30, 40, 3)
