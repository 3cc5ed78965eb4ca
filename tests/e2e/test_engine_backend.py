"""The second workflow backend: Roboflow's Workflows Execution Engine, with Conveyor's models plugged in."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scheduler_svc.default_model import ensure_default_model
from shared.workflows.compiler import compile_workflow
from tests.fixtures.media import decoded, photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import DETECTOR, detect_workflow
from worker_svc.workflows.engine_client import EngineHost
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import EncodedImage, serialize

ENGINE = {name: {"workflow_backend": "inference"} for name in ("scheduler", "worker")}


def engine_only_workflow() -> dict[str, Any]:
    """Uses a block the built-in executor does not have (detections combine: the detections, twice over), so
    only the engine can run it, beside an image output (a classical blur, which both run)."""
    spec = detect_workflow()
    spec["steps"] += [{"type": "roboflow_core/detections_combine@v1", "name": "both",
                       "prediction_one": "$steps.model.predictions", "prediction_two": "$steps.model.predictions"},
                      {"type": "roboflow_core/image_blur@v1", "name": "blur", "image": "$inputs.image",
                       "blur_type": "gaussian", "kernel_size": 31}]
    spec["outputs"] += [{"type": "JsonField", "name": "combined", "selector": "$steps.both.predictions"},
                        {"type": "JsonField", "name": "drawn", "selector": "$steps.blur.image"}]
    return spec


def test_both_backends_detect_the_same_objects(engine_host: EngineHost, tmp_path: Path) -> None:
    model = ensure_default_model(tmp_path)
    image = decoded(photo("bus.jpg"))
    from worker_svc.inference.detector import OnnxDetector
    from worker_svc.models import LoadedModels

    builtin = WorkflowRunner(compile_workflow(detect_workflow()),
                             LoadedModels({DETECTOR: OnnxDetector(model.onnx_path, model.class_names)}), {})
    expected = serialize(builtin.run(image))
    files = {DETECTOR: {"path": str(model.onnx_path), "task": "object-detection", "layout": "boxes-scores",
                        "class_names": model.class_names, "input_size": model.input_size}}
    got = engine_host.load(engine_only_workflow(), files).run(image, {"confidence": 0.3})
    assert got["count"] == expected["count"] >= 3
    assert len(got["combined"]["predictions"]) == 2 * got["count"]  # the engine-only block ran
    assert got["predictions"]["image"] == {"width": 810, "height": 1080}
    key = lambda d: (d["class"], round(d["x"]), round(d["y"]))  # noqa: E731
    ours, theirs = sorted(expected["predictions"]["predictions"], key=key), sorted(got["predictions"]["predictions"],
                                                                                   key=key)
    assert [d["class"] for d in theirs] == [d["class"] for d in ours]
    for a, b in zip(ours, theirs, strict=True):
        assert abs(a["x"] - b["x"]) < 1 and abs(a["width"] - b["width"]) < 1
        assert abs(a["confidence"] - b["confidence"]) < 1e-3
    drawn = got["drawn"]
    assert isinstance(drawn, EncodedImage)
    pixels = decoded(drawn.data)
    assert pixels.shape == image.shape and float(np.abs(pixels.astype(int) - image).mean()) > 1  # really blurred


@pytest.mark.parametrize("pipeline", [ENGINE], indirect=True)
async def test_an_engine_job_runs_blocks_the_builtin_executor_lacks(engine_python: Path, pipeline: Pipeline) -> None:
    p = pipeline
    for name in ("bus.jpg", "zidane.jpg"):
        resp = await p.staging.post("/batches/eng/upload/image", files={name: (name, photo(name))}, fileName=name)
        assert resp.status_code == 200, resp.text
    refused = await p.put_workflow("broken", {**engine_only_workflow(), "outputs": [
        {"type": "JsonField", "name": "x", "selector": "$steps.nowhere.image"}]})
    assert refused.status_code == 400 and "Execution Engine" in refused.json()["message"]
    blocked = detect_workflow()
    blocked["steps"].append({"type": "roboflow_core/custom_python@v1", "name": "py"})
    assert (await p.put_workflow("py", blocked)).status_code == 400
    assert (await p.put_workflow("blur", engine_only_workflow())).status_code == 200, "engine compiles it"
    # a foundation model compiles, but no registered model can be Florence-2: the job is refused, not every file
    captioned = detect_workflow()
    captioned["steps"].append({"type": "roboflow_core/florence_2@v1", "name": "caption", "images": "$inputs.image",
                               "task_type": "caption"})
    captioned["outputs"].append({"type": "JsonField", "name": "caption", "selector": "$steps.caption.raw_output"})
    assert (await p.put_workflow("caption", captioned)).status_code == 200
    refused = await p.jobs_post("/jobs/eng-caption", json=job_body(p.staging.workspace.slug, "eng", "caption"))
    assert refused.status_code == 400, refused.text
    assert "step 'caption' (roboflow_core/florence_2@v1) runs a model that Conveyor's registry cannot serve" in \
        refused.json()["message"]

    body = job_body(p.staging.workspace.slug, "eng", "blur", persistImagesOutputs=True,
                    imagesOutputsToBePersisted=["drawn"])
    assert (await p.jobs_post("/jobs/eng-job", json=body)).status_code == 200
    job = await p.wait_job("eng-job", timeout=180)
    assert job["state"] == "succeeded", job
    members = await p.export_files("eng-job")
    (results,) = [n for n in members if n.endswith(".jsonl")]
    records = {r["image"]: r for r in map(json.loads, members[results].decode().splitlines())}
    assert set(records) == {"bus.jpg", "zidane.jpg"}
    assert "bus" in [d["class"] for d in records["bus.jpg"]["predictions"]["predictions"]]
    assert records["zidane.jpg"]["drawn"] == "drawn__zidane.jpg.jpg"
    (drawn,) = [n for n in members if n.endswith("drawn__zidane.jpg.jpg")]
    assert members[drawn][:3] == b"\xff\xd8\xff"


def test_a_webhook_sink_cannot_reach_a_private_address(engine_host: EngineHost) -> None:
    """Blocks of Roboflow's engine make their own requests: they pass the same SSRF guard as our webhooks."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    workflow = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                "steps": [{"type": "roboflow_core/webhook_sink@v1", "name": "sink",
                           "url": f"http://127.0.0.1:{server.server_address[1]}/hook", "method": "POST",
                           "json_payload": {"hello": "world"}, "fire_and_forget": False, "cooldown_seconds": 0}],
                "outputs": [{"type": "JsonField", "name": "failed", "selector": "$steps.sink.error_status"},
                            {"type": "JsonField", "name": "message", "selector": "$steps.sink.message"}]}
    image = decoded(photo("bus.jpg"))
    try:
        got = engine_host.load(workflow, {}).run(image, {})
    finally:
        server.shutdown()
    assert got["failed"] is True and "non-public" in got["message"], got
    assert hits == []  # nothing reached the loopback receiver


async def test_a_job_chooses_its_executor_with_inference_backend(engine_python: Path, pipeline: Pipeline) -> None:
    """The deployment's default is the built-in executor; the engine is installed beside it. A workflow only the
    engine runs is saved, and runs on the jobs that choose the engine ("old-inference")."""
    p = pipeline
    resp = await p.staging.post("/batches/pick/upload/image", files={"bus.jpg": ("bus.jpg", photo("bus.jpg"))},
                                fileName="bus.jpg")
    assert resp.status_code == 200, resp.text
    assert (await p.put_workflow("blur", engine_only_workflow())).status_code == 200, "the engine runs it"
    # what neither executor runs is refused with each one's reason
    nowhere = detect_workflow()
    nowhere["steps"].append({"type": "roboflow_core/no_such_block@v1", "name": "nowhere"})
    refused = await p.put_workflow("nowhere", nowhere)
    reason = refused.json()["message"]
    assert refused.status_code == 400 and reason.startswith("neither executor runs this workflow"), refused.text
    assert "built-in executor: " in reason and "Workflows Execution Engine refuses" in reason, reason
    assert reason.count("no_such_block") == 2 and "is not a block of roboflow-workflows 0.2.14" in reason, reason
    ws = p.staging.workspace.slug
    for backend in (None, "inference-models"):
        body = job_body(ws, "pick", "blur")
        if backend:
            body["inferenceBackend"] = backend
        refused = await p.jobs_post("/jobs/pick-builtin", json=body)
        assert refused.status_code == 400 and "detections_combine" in refused.json()["message"], refused.text
    body = {**job_body(ws, "pick", "blur"), "inferenceBackend": "old-inference"}
    assert (await p.jobs_post("/jobs/pick-engine", json=body)).status_code == 200
    job = await p.wait_job("pick-engine", timeout=180)
    assert job["state"] == "succeeded", job
    members = await p.export_files("pick-engine")
    (record,) = [json.loads(line) for name, data in members.items() if name.endswith(".jsonl")
                 for line in data.decode().splitlines()]
    assert "bus" in [d["class"] for d in record["predictions"]["predictions"]]
    # the same job on the built-in executor, from a workflow both run
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    body = {**job_body(ws, "pick", "detect"), "inferenceBackend": "inference-models"}
    assert (await p.jobs_post("/jobs/pick-detect", json=body)).status_code == 200
    assert (await p.wait_job("pick-detect"))["state"] == "succeeded"


def test_both_backends_track_and_count_per_video(engine_host: EngineHost, tmp_path: Path) -> None:
    """Roboflow's engine keys its trackers and counters by the frame's video metadata, which the worker sends
    with every frame: two videos through one engine process keep apart, and agree with the built-in executor
    (tracks, counts, and the stabiliser's smoothed and carried-on boxes)."""
    from tests.e2e.test_inference_cli_jobs import tracking_workflow
    from tests.fixtures.onnx_models import bright_box_detector, crossing_square
    from worker_svc.inference.detector import OnnxDetector
    from worker_svc.models import LoadedModels
    from worker_svc.workflows.video_state import VideoState

    path = bright_box_detector(tmp_path / "boxes.onnx")
    workflow = tracking_workflow()
    workflow["steps"].append({"type": "roboflow_core/stabilize_detections@v1", "name": "steady",
                              "image": "$inputs.image", "detections": "$steps.tracker.tracked_detections",
                              "bbox_smoothing_coefficient": 0.5})
    workflow["outputs"].append({"type": "JsonField", "name": "steady",
                                "selector": "$steps.steady.tracked_detections"})
    builtin = WorkflowRunner(compile_workflow(workflow), LoadedModels({"boxes": OnnxDetector(path, ["box"])}), {})
    files = {"boxes": {"path": str(path), "task": "object-detection", "layout": "boxes-scores",
                       "class_names": ["box"], "input_size": 128}}
    engine = engine_host.load(workflow, files)
    for name, rightwards in (("right.mp4", True), ("left.mp4", False)):
        ours, theirs = VideoState(name, 10.0, 10.0), VideoState(name, 10.0, 10.0)
        frames = crossing_square(rightwards=rightwards)
        frames[6] = frames[6] * 0  # a frame without the square: the stabiliser carries its track on
        for i, frame in enumerate(frames):
            expected = serialize(builtin.run(frame, name, frame=ours.frame(i, i / 10)))
            got = engine.run(frame, {}, name, theirs.frame(i, i / 10))
            assert [d["tracker_id"] for d in got["tracks"]["predictions"]] == [
                d["tracker_id"] for d in expected["tracks"]["predictions"]], (name, i)
            assert (got["count_in"], got["count_out"]) == (expected["count_in"], expected["count_out"]), (name, i)
            # the engine keeps boxes in float32: within a fraction of a pixel
            assert [d["x"] for d in got["steady"]["predictions"]] == pytest.approx(
                [d["x"] for d in expected["steady"]["predictions"]], abs=0.2), (name, i)
        assert (got["count_in"], got["count_out"]) == ((1, 0) if rightwards else (0, 1))


def test_both_backends_correct_perspective_alike(engine_host: EngineHost, tmp_path: Path) -> None:
    """The corrected boxes and the warped image of Roboflow's perspective correction, on a photo's detections."""
    from worker_svc.inference.detector import OnnxDetector
    from worker_svc.models import LoadedModels

    model = ensure_default_model(tmp_path)
    workflow = detect_workflow()
    workflow["steps"].append({"type": "roboflow_core/perspective_correction@v1", "name": "pc",
                              "images": "$inputs.image", "predictions": "$steps.model.predictions",
                              "perspective_polygons": [[700, 1000], [100, 1050], [50, 200], [780, 150]],
                              "transformed_rect_width": 600, "transformed_rect_height": 800, "warp_image": True})
    workflow["outputs"] = [{"type": "JsonField", "name": "boxes", "selector": "$steps.pc.corrected_coordinates"},
                           {"type": "JsonField", "name": "warped", "selector": "$steps.pc.warped_image"}]
    image = decoded(photo("bus.jpg"))
    builtin = WorkflowRunner(compile_workflow(workflow),
                             LoadedModels({DETECTOR: OnnxDetector(model.onnx_path, model.class_names)}), {})
    ours = builtin.run(image, "bus.jpg")
    files = {DETECTOR: {"path": str(model.onnx_path), "task": "object-detection", "layout": "boxes-scores",
                        "class_names": model.class_names, "input_size": model.input_size}}
    theirs = engine_host.load(workflow, files).run(image, {"confidence": 0.3}, "bus.jpg")
    key = lambda d: (d["class"], d["x"], d["y"])  # noqa: E731
    expected = sorted(serialize(ours)["boxes"]["predictions"], key=key)
    got = sorted(theirs["boxes"]["predictions"], key=key)
    assert len(got) == len(expected) >= 3
    for a, b in zip(expected, got, strict=True):
        assert a["class"] == b["class"] and all(abs(a[k] - b[k]) <= 1 for k in ("x", "y", "width", "height")), (a, b)
    warped = decoded(theirs["warped"].data)
    assert warped.shape == ours["warped"].array.shape == (800, 600, 3)
    assert float(np.abs(warped.astype(int) - ours["warped"].array).mean()) < 3  # the same pixels, but for JPEG


def test_one_engine_process_answers_every_save_and_starts_again_if_it_dies(engine_python: Path) -> None:
    """The save-time check keeps one engine process: only the first check pays for the engine's start, and a
    process that died is replaced on the next check."""
    import os
    import signal
    import time

    from shared.workflows.errors import WorkflowInvalid
    from shared.workflows.roboflow_engine import EngineChecker

    checker = EngineChecker(engine_python)
    try:
        checker.check(detect_workflow())
        first = checker._process
        assert first is not None and first.engine_version == "roboflow-workflows 0.2.14"
        for _ in range(5):
            started = time.monotonic()
            checker.check(engine_only_workflow())
            assert time.monotonic() - started < 1.0
        broken = detect_workflow()
        broken["outputs"].append({"type": "JsonField", "name": "x", "selector": "$steps.nowhere.image"})
        with pytest.raises(WorkflowInvalid, match="non-existent block"):
            checker.check(broken)
        assert checker._process is first  # one process for all of them
        os.kill(first.pid, signal.SIGKILL)
        first._proc.wait()
        checker.check(detect_workflow())
        assert checker._process is not first and checker._process is not None and checker._process.alive
    finally:
        checker.close()


def test_a_worker_host_runs_many_workflows_and_loads_them_again_after_a_restart(engine_python: Path,
                                                                                  tmp_path: Path) -> None:
    import os
    import signal

    model = ensure_default_model(tmp_path)
    files = {DETECTOR: {"path": str(model.onnx_path), "task": "object-detection", "layout": "boxes-scores",
                        "class_names": model.class_names, "input_size": model.input_size}}
    image = decoded(photo("bus.jpg"))
    host = EngineHost(engine_python)
    try:
        detect, both = host.load(detect_workflow(), files), host.load(engine_only_workflow(), files)
        pid = host.process().pid
        assert detect.run(image, {})["count"] == both.run(image, {})["count"] >= 3
        assert host.process().pid == pid  # both workflows in the one process
        os.kill(pid, signal.SIGKILL)
        host.process()._proc.wait()
        again = both.run(image, {})  # a fresh process, the workflow loaded into it again
        assert host.process().pid != pid and len(again["combined"]["predictions"]) == 2 * again["count"]
    finally:
        host.close()


def test_the_offline_blocks_the_built_in_lacks_run_on_the_engine(engine_host: EngineHost, tmp_path: Path) -> None:
    """The blocks no executor of Conveyor had (SIFT, mask edge snapping, rotation on edges, camera focus v2, data
    aggregation, image stacks, rich labels, mask areas) run on Roboflow's engine with a registered detector and
    segmenter: each gives its outputs, of the kinds Roboflow documents."""
    from tests.fixtures.onnx_models import square_segmenter

    model = ensure_default_model(tmp_path)
    files = {DETECTOR: {"path": str(model.onnx_path), "task": "object-detection", "layout": "boxes-scores",
                        "class_names": model.class_names, "input_size": model.input_size},
             "squares": {"path": str(square_segmenter(tmp_path / "seg.onnx")), "task": "instance-segmentation",
                         "layout": "yolov8-seg", "class_names": ["blob"], "input_size": 64}}
    image = {"type": "WorkflowImage", "name": "image"}

    def step(block: str, name: str, **params: Any) -> dict[str, Any]:
        return {"type": f"roboflow_core/{block}", "name": name, **params}

    workflow = {"version": "1.0", "inputs": [image], "steps": [
        step("roboflow_object_detection_model@v2", "boxes", images="$inputs.image", model_id=DETECTOR),
        step("roboflow_instance_segmentation_model@v2", "masks", images="$inputs.image", model_id="squares"),
        step("sift@v1", "sift", image="$inputs.image"),
        step("mask_edge_snap@v1", "snapped", image="$inputs.image", segmentation="$steps.masks.predictions"),
        step("auto_rotate_on_edges@v1", "upright", image="$inputs.image"),
        step("camera_focus@v2", "focus", image="$inputs.image"),
        step("data_aggregator@v1", "aggregated", data={"found": "$steps.boxes.predictions"},
             data_operations={"found": [{"type": "SequenceLength"}]}, aggregation_mode={"found": ["sum"]},
             interval=1, interval_unit="runs"),
        step("image_stack@v1", "stack", image="$inputs.image"),
        step("rich_label_visualization@v1", "labelled", image="$inputs.image",
             predictions="$steps.boxes.predictions"),
        step("mask_area_measurement@v1", "areas", predictions="$steps.masks.predictions")],
        "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in {
            "keypoints": "$steps.sift.keypoints", "snapped": "$steps.snapped.refined_segmentation",
            "angle": "$steps.upright.angle", "focus": "$steps.focus.focus_measure",
            "aggregated": "$steps.aggregated.found_sum", "frames": "$steps.stack.frames_count",
            "labelled": "$steps.labelled.image", "areas": "$steps.areas.predictions",
            "boxes": "$steps.boxes.predictions"}.items()]}
    got = engine_host.load(workflow, files).run(decoded(photo("bus.jpg")), {}, "bus.jpg")
    assert len(got["keypoints"]) > 10 and isinstance(got["angle"], float) and got["focus"] > 0
    assert got["snapped"]["predictions"] and got["frames"] == 1
    assert got["aggregated"] == len(got["boxes"]["predictions"]) >= 1  # the one run's count
    assert isinstance(got["labelled"], EncodedImage)
    (blob,) = got["areas"]["predictions"]
    assert blob["class"] == "blob" and blob["area_px"] > 0


def test_the_kinds_the_built_in_compiler_checks_are_the_pinned_engines(engine_python: Path) -> None:
    """``shared/workflows/roboflow_kinds.json`` is what the engine of ``deploy/inference/requirements.txt`` says:
    regenerate it (the command in ``shared.workflows.engine_kinds``) when the pin moves."""
    import subprocess

    from shared.workflows.kinds import TABLE
    from shared.workflows.roboflow_engine import CODE_ROOT

    made = subprocess.run([str(engine_python), "-m", "shared.workflows.engine_kinds"], cwd=CODE_ROOT,
                          capture_output=True, text=True, check=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(CODE_ROOT)})
    assert json.loads(made.stdout) == json.loads(TABLE.read_text())


def test_the_engine_refuses_and_compiles_the_same_lineages_as_the_built_in(engine_python: Path) -> None:
    """Each case of the built-in compiler's lineage test, compiled by Roboflow's engine: refused where the built-in
    refuses it, compiled where it compiles."""
    from shared.workflows.errors import WorkflowInvalid
    from shared.workflows.roboflow_engine import check_with_engine
    from tests.unit.shared.test_workflow_lineage import CASES

    verdicts: dict[str, str | None] = {}
    for case, (definition, _) in CASES.items():
        try:
            check_with_engine(engine_python, definition)
            verdicts[case] = None
        except WorkflowInvalid:
            verdicts[case] = "refused"
    assert verdicts == {case: None if refusal is None else "refused" for case, (_, refusal) in CASES.items()}


def test_one_image_always_gets_one_answer_from_the_engine(engine_host: EngineHost) -> None:
    """Roboflow's dominant colour starts k-means from random pixels of the global generator: the host seeds it for
    each image, so a photo gets one colour on every run (a retried task writes what the first attempt wrote)."""
    spec = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": "roboflow_core/dominant_color@v1", "name": "colour", "image": "$inputs.image",
                       "color_clusters": 8}],  # unseeded, 8 runs gave 3 colours on the bus
            "outputs": [{"type": "JsonField", "name": "colour", "selector": "$steps.colour.rgb_color"}]}
    image = decoded(photo("bus.jpg"))
    workflow = engine_host.load(spec, {})
    colours = {tuple(workflow.run(image, {}, f"bus-{i}.jpg")["colour"]) for i in range(8)}
    assert len(colours) == 1, colours


def test_the_host_keeps_its_last_engines_and_compiles_a_dropped_one_again(engine_python: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine process keeps KEEP_ENGINES compiled workflows; a run of one it dropped compiles it again."""
    from worker_svc.workflows import engine_client
    from worker_svc.workflows.engine_host import KEEP_ENGINES

    loads: list[str] = []
    real_load = engine_client.EngineWorkflow.load

    def counted(self: engine_client.EngineWorkflow) -> None:
        loads.append(self.workflow["outputs"][0]["name"])
        real_load(self)

    monkeypatch.setattr(engine_client.EngineWorkflow, "load", counted)

    def workflow(i: int) -> dict[str, Any]:
        return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
            {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$inputs.image"}],
                "outputs": [{"type": "JsonField", "name": f"grey{i}", "selector": "$steps.grey.image"}]}

    image = np.zeros((8, 8, 3), np.uint8)
    host = EngineHost(engine_python)
    try:
        loaded = [host.load(workflow(i), {}) for i in range(KEEP_ENGINES)]
        for i, each in enumerate(loaded):  # as many as it keeps: every run finds its engine
            assert f"grey{i}" in each.run(image, {})
        assert len(loads) == KEEP_ENGINES
        extra = host.load(workflow(KEEP_ENGINES), {})  # one more: the least recently run (0) is dropped
        extra.run(image, {})
        for each in loaded[1:]:
            each.run(image, {})
        assert len(loads) == KEEP_ENGINES + 1
        assert "grey0" in loaded[0].run(image, {})  # compiled again, and answers
        assert loads[-1] == "grey0" and len(loads) == KEEP_ENGINES + 2
    finally:
        host.close()
