from pathlib import Path

import pytest

from deploy.gateway.app import Upstreams, clean_path, route
from deploy.gateway.config import GatewaySettings

UP = Upstreams.of(GatewaySettings())


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/", UP.ingest),
        ("/data-staging/v1/external/ws/batches", UP.ingest),
        ("/files/upload/abc", UP.ingest),
        ("/batch-processing/v1/external/ws/jobs", UP.scheduler),
        ("/ws/workflows/detect", UP.scheduler),
        ("/my_ws/models", UP.scheduler),
        ("/ws/model-aliases/yolov8n-640", UP.scheduler),
        ("/notifications/v1/ws/deliveries", UP.notifier),
        ("/nothing/here", None),
        ("/ws/workflowsx", None),
    ],
)
def test_paths_route_to_their_service(path: str, service: str | None) -> None:
    assert route(path, UP) == service


@pytest.mark.parametrize("raw", ["/data-staging/%2e%2e/metrics", "/data-staging/../docs", "/files/%2E/x",
                                 "/batch-processing/v1/external/ws/jobs/%00", "/ws/models/a%0Ab",
                                 "/data-staging/v1/%2e%2E/%2e%2e/openapi.json", "/files/..%5Cmetrics"])
def test_dot_segments_and_control_characters_never_travel(raw: str) -> None:
    assert clean_path(raw) is None


def test_paths_are_routed_decoded_and_forwarded_as_sent() -> None:
    assert clean_path("//data-staging//v1/external/ws/batches") == (
        "/data-staging/v1/external/ws/batches", "/data-staging/v1/external/ws/batches")
    assert clean_path("/ws/models/proj%2F3") == ("/ws/models/proj/3", "/ws/models/proj%2F3")
    assert clean_path("/data-staging/v1/external/ws/batches/a.b..c/list") is not None  # dots inside a name


async def test_the_gateway_serves_the_event_contract_and_a_page_that_shows_it() -> None:
    from deploy.gateway.app import create_gateway
    from tests.fixtures.apps import serve

    async with serve(create_gateway(UP), "http://gateway.test") as client:
        doc = await client.get("/asyncapi.json")
        page = await client.get("/asyncapi")
    assert doc.status_code == 200 and doc.json()["asyncapi"] == "3.0.0"
    assert "conveyor.jobs.states.v1" in {c["address"] for c in doc.json()["channels"].values()}
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    body = page.text.split("<body>")[1]
    assert '<h2 id="conveyor.jobs.states.v1">' in body and "job.state-changed@v1" in body
    assert "http" not in body  # offline: the page fetches nothing from elsewhere
    assert body.count('class="public"') == 4 and body.count('class="internal"') == 6


async def test_the_gateway_serves_the_built_docs_site_or_says_how_to_build_it(tmp_path: Path) -> None:
    from deploy.gateway.app import create_gateway
    from tests.fixtures.apps import serve

    (tmp_path / "webhooks").mkdir(parents=True)
    (tmp_path / "index.html").write_text("<h1>Conveyor</h1>")
    (tmp_path / "webhooks" / "index.html").write_text("<h1>Webhooks</h1>")
    async with serve(create_gateway(UP, docs_dir=tmp_path), "http://gateway.test") as client:
        home, page = await client.get("/docs/"), await client.get("/docs/webhooks/")
    assert home.text == "<h1>Conveyor</h1>" and page.text == "<h1>Webhooks</h1>"
    async with serve(create_gateway(UP, docs_dir=tmp_path / "unbuilt"), "http://gateway.test") as client:
        missing = await client.get("/docs/webhooks/")
    assert missing.status_code == 404 and "python -m deploy.docs.build" in missing.json()["message"]
