"""Blocks of Roboflow's engine that reach outside services, with the user's credentials given as workflow inputs:
the e-mail block against a real SMTP server over TLS (aiosmtpd) and the OpenAI-compatible block against a local
server of the chat completions protocol, through the same guard as every connection the engine makes (a
non-public address only when the operator allows its host:port)."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope

from scheduler_svc.default_model import ensure_default_model
from tests.fixtures.media import decoded, photo
from tests.fixtures.workflows import DETECTOR
from worker_svc.workflows.engine_client import EngineHost

PASSWORD = "app-password-123"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, email.message.Message]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append((envelope, email.message_from_bytes(envelope.content)))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == PASSWORD.encode())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which the engine's process trusts (SSL_CERT_FILE)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture()
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server speaking TLS from the first byte (SMTPS, as the block requires) on a free local port."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                            authenticator=inbox.authenticate, auth_required=True,
                            auth_require_tls=False)  # the whole session is TLS: aiosmtpd counts STARTTLS only
    controller.start()
    yield inbox, port
    controller.stop()


def mail_workflow(port: int) -> dict[str, Any]:
    """Detect, count, and mail the count: the credentials and server are workflow inputs, as a user keeps them."""
    return {"version": "1.0", "inputs": [
        {"type": "WorkflowImage", "name": "image"},
        {"type": "WorkflowParameter", "name": "smtp_server"},
        {"type": "WorkflowParameter", "name": "sender"},
        {"type": "WorkflowParameter", "name": "password"}], "steps": [
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$inputs.image",
         "model_id": DETECTOR, "confidence": 0.3},
        {"type": "roboflow_core/property_definition@v1", "name": "count", "data": "$steps.model.predictions",
         "operations": [{"type": "SequenceLength"}]},
        {"type": "roboflow_core/email_notification@v1", "name": "mail", "subject": "Objects found",
         "sender_email": "$inputs.sender", "receiver_email": "ops@example.com",
         "message": "Found {{ $parameters.found }} objects", "message_parameters": {"found": "$steps.count.output"},
         "smtp_server": "$inputs.smtp_server", "sender_email_password": "$inputs.password", "smtp_port": port,
         "fire_and_forget": False, "cooldown_seconds": 0}],
        "outputs": [{"type": "JsonField", "name": "failed", "selector": "$steps.mail.error_status"},
                    {"type": "JsonField", "name": "message", "selector": "$steps.mail.message"},
                    {"type": "JsonField", "name": "count", "selector": "$steps.count.output"}]}


def _run(engine_python: Path, allowed: list[str], port: int, tmp_path: Path) -> dict[str, Any]:
    model = ensure_default_model(tmp_path)
    files = {DETECTOR: {"path": str(model.onnx_path), "task": "object-detection", "layout": "boxes-scores",
                        "class_names": model.class_names, "input_size": model.input_size}}
    host = EngineHost(engine_python, allowed_hosts=allowed)
    try:
        return host.load(mail_workflow(port), files).run(decoded(photo("bus.jpg")), {
            "smtp_server": "127.0.0.1", "sender": "camera@example.com", "password": PASSWORD})
    finally:
        host.close()


def test_the_email_block_mails_through_an_allowed_smtp_server(
        engine_python: Path, smtp_server: tuple[Inbox, int], certificate: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    got = _run(engine_python, [f"127.0.0.1:{port}"], port, tmp_path)
    assert got["failed"] is False, got
    (envelope, message), = inbox.messages
    assert inbox.logins == [(b"camera@example.com", PASSWORD.encode())]
    assert envelope.rcpt_tos == ["ops@example.com"] and message["Subject"] == "Objects found"
    body = message.get_payload()[0].get_payload()  # type: ignore[index, union-attr]
    assert body == f"Found {got['count']} objects" and got["count"] >= 3


def test_the_email_block_cannot_reach_a_private_smtp_server(
        engine_python: Path, smtp_server: tuple[Inbox, int], certificate: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SMTP is no HTTP client: the guard on the engine's sockets refuses it all the same."""
    inbox, port = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    got = _run(engine_python, [], port, tmp_path)
    assert got["failed"] is True and "non-public address 127.0.0.1" in got["message"], got
    assert inbox.messages == [] and inbox.logins == []


class ChatCompletions:
    """A local server speaking the OpenAI chat completions protocol: it answers with the number of images it was
    sent and keeps each request."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading

        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        calls = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls.append((dict(self.headers), {"path": self.path, **body}))
                images = [part for m in body["messages"] if isinstance(m["content"], list)
                          for part in m["content"] if part.get("type") == "image_url"]
                answer = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                                     "model": body["model"], "choices": [{
                                         "index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": f"{len(images)} image(s)"}}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def chat_workflow() -> dict[str, Any]:
    return {"version": "1.0", "inputs": [
        {"type": "WorkflowImage", "name": "image"}, {"type": "WorkflowParameter", "name": "base_url"},
        {"type": "WorkflowParameter", "name": "api_key"}], "steps": [
        {"type": "roboflow_core/openai_compatible@v1", "name": "chat", "base_url": "$inputs.base_url",
         "model_name": "local-vlm", "api_key": "$inputs.api_key", "prompt": "What is in {{ $parameters.photo }}?",
         "prompt_parameters": {"photo": "$inputs.image"}, "max_tokens": 20}],
        "outputs": [{"type": "JsonField", "name": "answer", "selector": "$steps.chat.output"},
                    {"type": "JsonField", "name": "error", "selector": "$steps.chat.error_status"}]}


@pytest.mark.parametrize("allowed", [True, False])
def test_an_openai_compatible_block_talks_to_an_allowed_server_only(engine_python: Path, allowed: bool) -> None:
    server = ChatCompletions()
    host = EngineHost(engine_python, allowed_hosts=[f"127.0.0.1:{server.port}"] if allowed else [])
    try:
        got = host.load(chat_workflow(), {}).run(decoded(photo("bus.jpg")), {
            "base_url": f"http://127.0.0.1:{server.port}/v1", "api_key": "sk-user-key"})
    finally:
        host.close()
        server.close()
    if not allowed:  # the OpenAI client words the guard's refusal as its own "Connection error."
        assert got["answer"] == "" and got["error"] and server.requests == [], got
        return
    assert got == {"answer": "1 image(s)", "error": ""}
    (headers, body), = server.requests
    assert body["path"] == "/v1/chat/completions" and body["model"] == "local-vlm"
    assert headers["Authorization"] == "Bearer sk-user-key"
    parts = body["messages"][-1]["content"]
    assert any(p.get("type") == "image_url" and p["image_url"]["url"].startswith("data:image/jpeg;base64,")
               for p in parts), parts
