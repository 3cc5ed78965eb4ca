"""What scope each kind of request needs (every route's is checked over HTTP in tests/e2e/test_isolation.py)."""

import pytest

from shared.auth import allows, required_scope


@pytest.mark.parametrize(("method", "route", "scope"), [
    ("GET", "/batch-processing/v1/external/{workspace}/jobs", "read"),
    ("GET", "/data-staging/v1/external/{workspace}/batches/{batch_id}/list", "read"),
    ("GET", "/{workspace}/workflows/{workflow_id}", "read"),  # inference fetches a job's workflow with the key
    ("POST", "/batch-processing/v1/external/{workspace}/jobs/{job_id}", "trigger"),
    ("POST", "/batch-processing/v1/external/{workspace}/jobs/{job_id}/abort", "trigger"),
    ("POST", "/data-staging/v1/external/{workspace}/batches/{batch_id}/upload/image", "trigger"),
    ("POST", "/notifications/v1/{workspace}/deliveries/redeliver", "trigger"),
    ("PUT", "/{workspace}/workflows/{workflow_id}", "admin"),
    ("DELETE", "/{workspace}/model-aliases/{alias}", "admin"),
    ("GET", "/notifications/v1/{workspace}/signing-secret", "admin"),
    ("POST", "/notifications/v1/{workspace}/signing-secret/rotate", "admin"),
    ("GET", "/{workspace}/api-keys", "admin"),
])
def test_the_scope_a_request_needs(method: str, route: str, scope: str) -> None:
    assert required_scope(method, route) == scope


def test_each_scope_allows_what_the_ones_below_it_do() -> None:
    assert allows("admin", "read") and allows("admin", "trigger") and allows("trigger", "read")
    assert not allows("read", "trigger") and not allows("trigger", "admin") and allows("read", "read")
