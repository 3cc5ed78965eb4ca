"""A workflow copied from Roboflow names Roboflow's model ids: a workspace maps them to registered models, and an
unmapped id is refused when the job is created, saying how to map it."""

import json

from tests.fixtures.media import photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import DETECTOR


def _roboflow_workflow() -> dict:
    """As Roboflow's editor saves it: the v3 model block, "image" (not "images"), a public model id."""
    return {"version": "1.0", "inputs": [{"type": "InferenceImage", "name": "image"}],
            "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v3", "name": "model",
                       "image": "$inputs.image", "model_id": "yolov8n-640", "confidence_mode": "custom",
                       "custom_confidence": 0.3}],
            "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.model.predictions"},
                        {"type": "JsonField", "name": "model", "selector": "$steps.model.model_id"}]}


async def test_roboflow_model_ids_run_through_aliases(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    resp = await p.staging.post("/batches/aliased/upload/image", files={"bus.jpg": ("bus.jpg", photo("bus.jpg"))},
                                fileName="bus.jpg")
    assert resp.status_code == 200, resp.text
    assert (await p.put_workflow("copied", _roboflow_workflow())).status_code == 200
    refused = await p.jobs_post("/jobs/unmapped", json=job_body(ws, "aliased", "copied"))
    assert refused.status_code == 400, refused.text
    assert "'yolov8n-640'" in refused.json()["message"] and "conveyor models alias yolov8n-640" in \
        refused.json()["message"]

    key = {"api_key": p.staging.key}
    assert (await p.jobs.put(f"/{ws}/model-aliases/yolov8n-640", params=key, json={"modelId": "nope"})
            ).status_code == 404
    taken = await p.jobs.put(f"/{ws}/model-aliases/{DETECTOR}", params=key, json={"modelId": DETECTOR})
    assert taken.status_code == 409 and "never take effect" in taken.json()["message"]
    made = await p.jobs.put(f"/{ws}/model-aliases/yolov8n-640", params=key, json={"modelId": DETECTOR})
    assert made.status_code == 200 and made.json() == {"alias": "yolov8n-640", "modelId": DETECTOR}
    listed = (await p.jobs.get(f"/{ws}/model-aliases", params=key)).json()["aliases"]
    assert [(a["alias"], a["modelId"]) for a in listed] == [("yolov8n-640", DETECTOR)]

    assert (await p.jobs_post("/jobs/mapped", json=job_body(ws, "aliased", "copied"))).status_code == 200
    job = await p.wait_job("mapped")
    assert job["state"] == "succeeded", job
    members = await p.export_files("mapped")
    (row,) = [json.loads(line) for name, data in members.items() if name.endswith(".jsonl")
              for line in data.decode().splitlines()]
    assert row["model"] == "yolov8n-640" and "bus" in {d["class"] for d in row["predictions"]["predictions"]}

    gone = await p.jobs.delete(f"/{ws}/model-aliases/yolov8n-640", params=key)
    assert gone.json() == {"status": "ok", "deleted": True}
    assert (await p.jobs_post("/jobs/unmapped-again", json=job_body(ws, "aliased", "copied"))).status_code == 400


def _one_model_step(block: str, model_id: str, extra_steps: list[dict] | None = None) -> dict:
    return {"version": "1.0",
            "inputs": [{"type": "InferenceImage", "name": "image"}, {"type": "WorkflowParameter", "name": "model"}],
            "steps": [*(extra_steps or []), {"type": block, "name": "model", "images": "$inputs.image",
                                             "model_id": model_id}],
            "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.model.predictions"}]}


async def test_an_alias_to_a_model_of_another_kind_is_refused_when_the_job_is_created(pipeline: Pipeline) -> None:
    """Each model block gets a model of its kind; an alias to the detector from a segmentation, keypoint or
    classification step is a 400 naming both kinds, before any file fails (whether the id is written in the
    step or given as a workflow parameter)."""
    p = pipeline
    ws = p.staging.workspace.slug
    key = {"api_key": p.staging.key}
    assert (await p.staging.post("/batches/kinds/upload/image", files={"bus.jpg": ("bus.jpg", photo("bus.jpg"))},
                                 fileName="bus.jpg")).status_code == 200
    assert (await p.jobs.put(f"/{ws}/model-aliases/other-640", params=key, json={"modelId": DETECTOR})
            ).status_code == 200
    blocks = {"roboflow_core/roboflow_instance_segmentation_model@v2": "instance-segmentation",
              "roboflow_core/roboflow_keypoint_detection_model@v2": "keypoint-detection",
              "roboflow_core/roboflow_classification_model@v2": "classification",
              "roboflow_core/roboflow_multi_label_classification_model@v2": "multi-label-classification"}
    for i, (block, task) in enumerate(blocks.items()):
        assert (await p.put_workflow(f"kind-{i}", _one_model_step(block, "other-640"))).status_code == 200
        refused = await p.jobs_post(f"/jobs/kind-{i}", json=job_body(ws, "kinds", f"kind-{i}"))
        assert refused.status_code == 400, refused.text
        assert (f"runs models of task {task}, but 'other-640' (an alias of '{DETECTOR}') is of task "
                "object-detection" in refused.json()["message"])
    assert (await p.put_workflow("by-param", _one_model_step(
        "roboflow_core/roboflow_instance_segmentation_model@v2", "$inputs.model"))).status_code == 200
    refused = await p.jobs_post("/jobs/by-param", json=job_body(ws, "kinds", "by-param",
                                                               workflowParameters={"model": DETECTOR}))
    assert refused.status_code == 400 and f"but '{DETECTOR}' is of task object-detection" in refused.json()["message"]
    # the detector's own block takes it
    assert (await p.put_workflow("right", _one_model_step("roboflow_core/roboflow_object_detection_model@v2",
                                                          "other-640"))).status_code == 200
    assert (await p.jobs_post("/jobs/right", json=job_body(ws, "kinds", "right"))).status_code == 200


async def test_a_model_id_taken_from_another_steps_output_is_refused_saying_how_to_give_it(
        pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    assert (await p.staging.post("/batches/dyn/upload/image", files={"bus.jpg": ("bus.jpg", photo("bus.jpg"))},
                                 fileName="bus.jpg")).status_code == 200
    parser = {"type": "roboflow_core/json_parser@v1", "name": "json_parser", "raw_json": "{\"model_id\": \"x\"}",
              "expected_fields": ["model_id"]}
    spec = _one_model_step("roboflow_core/roboflow_object_detection_model@v2", "$steps.json_parser.model_id",
                           [parser])
    saved = await p.put_workflow("dynamic", spec)
    assert saved.status_code == 200, saved.text  # as Roboflow saves it
    refused = await p.jobs_post("/jobs/dynamic", json=job_body(ws, "dyn", "dynamic"))
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert "takes its model_id from $steps.json_parser.model_id" in message and "$inputs.<name>" in message
