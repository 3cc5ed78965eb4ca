import pytest

from shared.gateway import Upstreams, route

UP = Upstreams.local()


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/", UP.ingest),
        ("/data-staging/v1/external/ws/batches", UP.ingest),
        ("/files/upload/abc", UP.ingest),
        ("/batch-processing/v1/external/ws/jobs", UP.scheduler),
        ("/ws/workflows/detect", UP.scheduler),
        ("/my_ws/models", UP.scheduler),
        ("/notifications/v1/ws/deliveries", UP.notifier),
        ("/nothing/here", None),
        ("/ws/workflowsx", None),
    ],
)
def test_paths_route_to_their_service(path: str, service: str | None) -> None:
    assert route(path, UP) == service
