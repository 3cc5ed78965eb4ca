"""Inside the engine's own interpreter only: Roboflow's ``roboflow_workflows`` configured for Conveyor.

Never imported by the services (their environment has no ``roboflow_workflows``); the host programs of
``shared.workflows.roboflow_engine`` import it after the protocol is open.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any


def configure_engine() -> None:
    """Install the engine's process-wide configuration before any of its modules is imported: offline (no
    Roboflow-hosted inference, no font downloads), no code or files or environment from a definition."""
    from roboflow_workflows.configuration import (
        EngineConfiguration,
        FontsConfiguration,
        PlatformConfiguration,
        WorkflowsConfiguration,
        configure_process,
    )

    configure_process(WorkflowsConfiguration(
        engine=EngineConfiguration(allow_custom_python_execution=False, allow_blocks_accessing_local_storage=False,
                                   allow_blocks_accessing_environmental_variables=False),
        platform=PlatformConfiguration(offline_mode=True), fonts=FontsConfiguration(allow_download=False)))


def engine_version() -> str:
    return f"roboflow-workflows {version('roboflow-workflows')}"


def init_engine(workflow: dict[str, Any], models_provider: Any) -> Any:
    from roboflow_workflows.core_steps.common.entities import StepExecutionMode
    from roboflow_workflows.execution_engine.core import ExecutionEngine

    return ExecutionEngine.init(
        workflow_definition=workflow, prevent_local_images_loading=True,
        init_parameters={"workflows_core.model_manager": models_provider, "workflows_core.api_key": None,
                         "workflows_core.step_execution_mode": StepExecutionMode.LOCAL})


def compile_definition(workflow: dict[str, Any]) -> None:
    """The check: a batch workflow's one image input, then the engine's own compiler (every block's manifest,
    kinds, lineage, selectors); no block runs, so no model is loaded."""
    image_input(workflow)
    init_engine(workflow, _NoModels())


def image_input(workflow: dict[str, Any]) -> str:
    names = [i["name"] for i in workflow.get("inputs", []) if i.get("type") in ("WorkflowImage", "InferenceImage")]
    if len(names) != 1:
        raise ValueError(f"a batch workflow needs exactly one image input, this one has {len(names)}")
    return names[0]


# pydantic lists every block type the engine knows (11 kB) when a step's type is none of them
_EVERY_TAG = re.compile(r"does not match any of the expected tags: '.*?' \[type=union_tag_invalid\]", re.S)
MESSAGE_LIMIT = 2000


def message(exc: BaseException) -> str:
    inner = getattr(exc, "inner_error", None) or exc.__cause__
    text = getattr(exc, "public_message", None) or str(exc) or type(exc).__name__
    if inner is not None and str(inner) and str(inner) not in text:
        text = f"{text}: {inner}"
    text = _EVERY_TAG.sub(f"is not a block of {engine_version()}", text)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "…"


class BlockedConnection(ConnectionRefusedError):
    """A block tried to connect to a non-public address that the operator did not allow."""


def guard_sockets(allowed: frozenset[str]) -> None:
    """Every connection a block opens, whatever its protocol (SMTP, MQTT, databases, HTTP under its client),
    goes to a public address or to a ``host:port`` of ``CONVEYOR_WEBHOOK_ALLOWED_HOSTS``: checked on the socket,
    after name resolution, so no protocol and no DNS answer gets around it."""
    import ipaddress
    import socket

    from shared.netsafe import is_public

    permitted: set[tuple[str, int]] = set()
    for entry in allowed:
        host, _, port = entry.rpartition(":")
        try:
            permitted |= {(str(info[4][0]), int(port)) for info in socket.getaddrinfo(host.strip("[]"), int(port))}
        except (OSError, ValueError):
            continue  # a name that does not resolve here allows nothing

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return
        host, port = str(address[0]), int(address[1])
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:  # a name given to connect() itself: resolve it as the socket will
            ip = ipaddress.ip_address(socket.getaddrinfo(host, port, sock.family)[0][4][0])
        if (str(ip), port) not in permitted and not is_public(ip):
            raise BlockedConnection(f"Conveyor refuses connections to the non-public address {ip}:{port} "
                                    "(an operator may allow it with CONVEYOR_WEBHOOK_ALLOWED_HOSTS)")

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign, assignment]


def guard_outbound(allowed: frozenset[str]) -> None:
    """Send every request of ``requests`` and ``httpx`` (what the engine's blocks use) through the SSRF guard:
    at the transport, so each redirect is checked too (with the URL's own words in the refusal); every other
    connection is checked on its socket (``guard_sockets``)."""
    guard_sockets(allowed)
    import httpx
    import requests.adapters

    from shared.netsafe import check_url_blocking

    send = requests.adapters.HTTPAdapter.send

    def guarded_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        check_url_blocking(request.url, allowed)
        return send(self, request, *args, **kwargs)

    handle = httpx.HTTPTransport.handle_request
    handle_async = httpx.AsyncHTTPTransport.handle_async_request

    def guarded_handle(self: Any, request: Any) -> Any:
        check_url_blocking(str(request.url), allowed)
        return handle(self, request)

    async def guarded_handle_async(self: Any, request: Any) -> Any:
        check_url_blocking(str(request.url), allowed)
        return await handle_async(self, request)

    requests.adapters.HTTPAdapter.send = guarded_send  # type: ignore[method-assign]
    httpx.HTTPTransport.handle_request = guarded_handle  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = guarded_handle_async  # type: ignore[method-assign]


class _NoModels:
    """A check compiles the definition only; no block runs, so no model is ever asked for."""

    content_addressed_artifact_cache = None

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise KeyError(f"{name}: a compile check loads and runs no model")

        return refuse
