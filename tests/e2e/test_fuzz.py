"""Fuzzing every public API with schemathesis (cases generated from each service's OpenAPI document, valid
ones and deliberately invalid ones): whatever the body, path and query, a request gets a clear 4xx or a
success — never a 5xx but the documented 501 of an unsupported Roboflow feature. Requests carry a valid key of
the deployment's workspace, so the generated cases reach the handlers, not just the authentication."""

from __future__ import annotations

import itertools
import os

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import GenerationMode

from tests.fixtures.deployment import Deployment

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
