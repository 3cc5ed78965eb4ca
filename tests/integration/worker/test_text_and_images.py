"""Families of blocks through the real stack: OCR reads the staged images' text into the results, classical
operations and supervision's drawings come back as persisted image outputs."""

import json

import cv2
import numpy as np

from tests.fixtures.media import decoded
from tests.fixtures.pipeline import Pipeline, job_body


def _sign(text: str) -> bytes:
    image = np.full((120, 420, 3), 255, np.uint8)
    cv2.putText(image, text, (10, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    return cv2.imencode(".png", image)[1].tobytes()


async def test_ocr_and_image_operations_in_one_job(pipeline: Pipeline) -> None:
    p = pipeline
    for name, text in (("a.png", "TRUCK 42"), ("b.png", "BATCH JOBS")):
        resp = await p.staging.post("/batches/signs/upload/image", files={name: (name, _sign(text))}, fileName=name)
        assert resp.status_code == 200, resp.text
    spec = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/pp_ocr@v1", "name": "ocr", "images": "$inputs.image"},
        {"type": "roboflow_core/stitch_ocr_detections@v1", "name": "stitch", "predictions": "$steps.ocr.predictions",
         "reading_direction": "left_to_right", "delimiter": " "},
        {"type": "roboflow_core/threshold@v1", "name": "binary", "image": "$inputs.image",
         "threshold_type": "binary_inv", "thresh_value": 128},
        {"type": "roboflow_core/corner_visualization@v1", "name": "corners", "image": "$inputs.image",
         "predictions": "$steps.ocr.predictions"}],
        "outputs": [{"type": "JsonField", "name": "text", "selector": "$steps.ocr.result"},
                    {"type": "JsonField", "name": "stitched", "selector": "$steps.stitch.ocr_text"},
                    {"type": "JsonField", "name": "binary", "selector": "$steps.binary.image"},
                    {"type": "JsonField", "name": "corners", "selector": "$steps.corners.image"}]}
    assert (await p.put_workflow("signs", spec)).status_code == 200
    body = job_body(p.staging.workspace.slug, "signs", "signs", persistImagesOutputs=True,
                    imagesOutputsToBePersisted=["binary", "corners"])
    assert (await p.jobs_post("/jobs/signs-job", json=body)).status_code == 200
    assert (await p.wait_job("signs-job", timeout=180))["state"] == "succeeded"
    members = await p.export_files("signs-job")
    rows = {r["image"]: r for name, data in members.items() if name.endswith(".jsonl")
            for r in map(json.loads, data.decode().splitlines())}
    assert {n: r["text"] for n, r in rows.items()} == {"a.png": "TRUCK 42", "b.png": "BATCH JOBS"}
    assert rows["a.png"]["stitched"] == "TRUCK 42"  # one line: the stitch of one detection is its text
    (binary,) = [data for name, data in members.items() if name.endswith("binary__a.png.jpg")]
    pixels = decoded(binary)
    assert pixels[5, 5].max() < 30 and pixels.mean() < 128  # white paper became black, the text white
    assert any(name.endswith("corners__b.png.jpg") for name in members)


async def test_crops_read_again_roll_up_and_a_template_is_found_in_one_job(pipeline: Pipeline) -> None:
    """Each line OCR finds is cut out and read again; the readings on the crops roll up into the image, where
    they cover the lines first found; a piece of the image cut out as a template is found where it was cut;
    motion on still images (each a video of one frame) is never found."""
    p = pipeline
    resp = await p.staging.post("/batches/lines/upload/image", files={"a.png": ("a.png", _sign("TRUCK 42"))},
                                fileName="a.png")
    assert resp.status_code == 200, resp.text
    spec = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/pp_ocr@v1", "name": "ocr", "images": "$inputs.image"},
        {"type": "roboflow_core/detection_offset@v1", "name": "margin", "predictions": "$steps.ocr.predictions",
         "offset_width": 40, "offset_height": 40},
        {"type": "roboflow_core/dynamic_crop@v1", "name": "lines", "images": "$inputs.image",
         "predictions": "$steps.margin.predictions"},
        {"type": "roboflow_core/pp_ocr@v1", "name": "again", "images": "$steps.lines.crops"},
        {"type": "roboflow_core/dimension_collapse@v1", "name": "collapse", "data": "$steps.again.predictions"},
        {"type": "roboflow_core/detections_list_rollup@v1", "name": "rollup",
         "parent_detection": "$steps.margin.predictions", "child_detections": "$steps.collapse.output"},
        {"type": "roboflow_core/overlap_analysis@v1", "name": "cover", "reference_predictions":
         "$steps.ocr.predictions", "candidate_predictions": "$steps.rollup.rolled_up_detections"},
        {"type": "roboflow_core/absolute_static_crop@v1", "name": "piece", "images": "$inputs.image",
         "x_center": 60, "y_center": 60, "width": 80, "height": 50},
        {"type": "roboflow_core/template_matching@v1", "name": "match", "image": "$inputs.image",
         "template": "$steps.piece.crops"},
        {"type": "roboflow_core/motion_detection@v1", "name": "motion", "image": "$inputs.image"}],
        "outputs": [{"type": "JsonField", "name": "rolled", "selector": "$steps.rollup.rolled_up_detections"},
                    {"type": "JsonField", "name": "cover", "selector": "$steps.cover.overlaps"},
                    {"type": "JsonField", "name": "matches", "selector": "$steps.match.predictions"},
                    {"type": "JsonField", "name": "motion", "selector": "$steps.motion.motion"}]}
    assert (await p.put_workflow("lines", spec)).status_code == 200
    body = job_body(p.staging.workspace.slug, "lines", "lines")
    assert (await p.jobs_post("/jobs/lines-job", json=body)).status_code == 200
    assert (await p.wait_job("lines-job", timeout=180))["state"] == "succeeded"
    members = await p.export_files("lines-job")
    (row,) = [json.loads(line) for name, data in members.items() if name.endswith(".jsonl")
              for line in data.decode().splitlines()]
    (rolled,) = row["rolled"]["predictions"]
    assert rolled["class"] == "TRUCK 42" and row["rolled"]["image"] == {"width": 420, "height": 120}
    (cover,) = row["cover"]
    assert cover["candidate_class"] == "TRUCK 42" and cover["overlap_ratio"] > 0.8
    (match,) = row["matches"]["predictions"]
    assert (match["x"], match["y"], match["width"], match["height"]) == (60, 60, 80, 50)
    assert row["motion"] is False
