"""Workspace discovery (``GET /?api_key=``), as Roboflow's clients call it first: the slug for API paths, and the id
the workspace's Kafka events carry and are keyed by."""

from tests.fixtures.ingest import StagingClient


async def test_discovery_names_the_workspace_and_the_id_its_events_are_keyed_by(ingest: StagingClient) -> None:
    resp = await ingest.http.get("/", params={"api_key": ingest.key})
    assert resp.status_code == 200, resp.text
    found = resp.json()
    assert found["workspace"] == ingest.workspace.slug and found["workspaceId"] == ingest.workspace.id
    assert (await ingest.http.get("/", params={"api_key": "nope"})).status_code == 401
