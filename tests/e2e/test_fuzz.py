"""Fuzzing every public API with schemathesis (cases generated from each service's OpenAPI document, valid
ones and deliberately invalid ones): whatever the body, path and query, a request gets a clear 4xx or a
success — never a 5xx but the documented 501 of an unsupported Roboflow feature. Requests carry a valid key of
the deployment's workspace, so the generated cases reach the handlers, not just the authentication."""

from __future__ import annotations

import base64
import itertools
import json
import os
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import hypothesis.errors
import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis import GenerationMode

from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg

API_PORTS = {"ingest": 9101, "scheduler": 9102, "notifier": 9105}
EXAMPLES = 20  # per operation and run; raise it for a deeper (nightly) run with FUZZ_EXAMPLES
TRIED: dict[str, int] = {}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", list(API_PORTS))
def test_no_request_gets_a_server_error(service: str, deployment: Deployment) -> None:
    base = f"http://127.0.0.1:{API_PORTS[service]}"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    examples = int(os.environ.get("FUZZ_EXAMPLES", EXAMPLES))
    errors: list[str] = []
    tried = 0
    for result, mode in itertools.product(list(schema.get_all_operations()), GenerationMode):
        operation = result.ok()

        @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.generate])
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: schemathesis.Case) -> None:
            nonlocal tried
            case.query = {**(case.query or {}), "api_key": deployment.api_key}
            if case.path_parameters and "workspace" in case.path_parameters:
                case.path_parameters["workspace"] = deployment.workspace
            response = case.call(base_url=base, timeout=30)
            tried += 1
            # 501 NotSupported is the documented answer of Roboflow features Conveyor does not offer
            unsupported = response.status_code == 501 and response.json().get("error") == "NotSupported"
            if response.status_code >= 500 and not unsupported:
                errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        try:
            fuzz()
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
    TRIED[service] = tried
    print(f"{service}: {tried} generated requests, {len(errors)} server errors")
    assert tried > 0 and not errors, "\n".join(errors[:20])


_SEGMENT = st.one_of(
    st.text(min_size=1, max_size=12),  # any characters, non-ASCII and control ones included
    st.sampled_from([".", "..", "%2e%2e", "%2E.", "%00", "%0A", "%2F", "%5C", "..%2f", "~", "e2e", "batches", "jobs"]))
_PREFIXES = ["/data-staging/v1/external/e2e", "/batch-processing/v1/external/e2e", "/files/download",
             "/files/upload", "/e2e/workflows", "/e2e/models", "/notifications/v1/e2e", "/ui", ""]


@pytest.mark.timeout(600)
def test_no_path_through_the_gateway_gets_a_server_error(deployment: Deployment) -> None:
    """Paths as an attacker writes them (encoded dots, NUL, non-ASCII), through the public gateway."""
    errors: list[str] = []

    @hypothesis.settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", EXAMPLES)) * 20, deadline=None,
                         derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(prefix=st.sampled_from(_PREFIXES), segments=st.lists(_SEGMENT, max_size=4),
                      method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    def fuzz(prefix: str, segments: list[str], method: str) -> None:
        path = prefix + "".join("/" + quote(s, safe="%.~") for s in segments)
        with httpx.Client(timeout=30) as client:
            resp = client.send(client.build_request(method, httpx.URL(deployment.base_url + path),
                                                    params={"api_key": deployment.api_key}))
        if resp.status_code >= 500 and resp.status_code != 501:
            errors.append(f"{method} {path} -> {resp.status_code}: {resp.text[:200]}")

    fuzz()
    assert not errors, "\n".join(errors[:20])


@pytest.mark.timeout(600)
def test_any_file_name_is_staged_or_refused_never_a_server_error(deployment: Deployment) -> None:
    """Simple uploads under generated names (any Unicode, separators, dots): staged under a name that lists
    and downloads, or refused with a 4xx."""
    staged: dict[str, str] = {}
    base = f"{deployment.base_url}/data-staging/v1/external/e2e/batches/fuzz-names"
    data = jpeg(3)

    @hypothesis.settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", EXAMPLES)) * 3, deadline=None,
                         derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(name=st.text(min_size=1, max_size=80).map(lambda s: s + ".jpg"))
    def fuzz(name: str) -> None:
        resp = httpx.post(f"{base}/upload/image", params={"api_key": deployment.api_key, "fileName": name},
                          files={"f": ("x.jpg", data)}, timeout=30)
        assert resp.status_code < 500, (name, resp.status_code, resp.text[:200])
        if resp.status_code == 200:
            staged[resp.json()["fileName"]] = name

    fuzz()
    listed = httpx.get(f"{base}/list", params={"api_key": deployment.api_key}, timeout=30).json()["filesMetadata"]
    assert listed, "no generated name was staged"
    for meta in listed[:20]:
        got = httpx.get(meta["downloadURL"], timeout=30)
        assert got.status_code == 200 and got.content == data, meta["fileName"]


@pytest.mark.timeout(300)
def test_no_forged_page_token_gets_a_server_error(deployment: Deployment) -> None:
    routes = ["/data-staging/v1/external/e2e/batches", "/batch-processing/v1/external/e2e/jobs",
              "/e2e/workflows", "/notifications/v1/e2e/deliveries"]
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    json_values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8)

    @hypothesis.settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", EXAMPLES)) * 5, deadline=None,
                         derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(route=st.sampled_from(routes), cursor=st.dictionaries(
        st.sampled_from(["l", "c", "b", "j", "s", "p", "t", "i", "w", "a"]), json_values, max_size=4))
    def fuzz(route: str, cursor: dict[str, Any]) -> None:
        token = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")
        resp = httpx.get(deployment.base_url + route, params={"api_key": deployment.api_key,
                                                               "nextPageToken": token}, timeout=30)
        assert resp.status_code in (200, 400), (route, cursor, resp.status_code, resp.text[:200])

    fuzz()
