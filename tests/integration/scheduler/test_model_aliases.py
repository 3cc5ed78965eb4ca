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
