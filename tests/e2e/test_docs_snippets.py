"""Every snippet of the README and of ``docs/`` (``tests/fixtures/doc_snippets.py`` says which blocks are
snippets) run as written against a real deployment, page by page in page order, in a folder laid out as the
page says the reader's is: ``photos/``, ``clips/``, ``workflow.json``, the model files it names, and ``.venv``.
Each page runs in a workspace of its own, its key where ``conveyor up`` keeps one (``$CONVEYOR_HOME/api_key``):
the snippets' batch and job names are a reader's (``photos``, ``job1``), which other tests' deployments, sharing
the database, may use too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conveyor_client.client import ConveyorClient
from shared.config import REPO_ROOT
from tests.fixtures import onnx_models
from tests.fixtures.cli import conveyor
from tests.fixtures.deployment import Deployment
from tests.fixtures.doc_snippets import Snippet, pages, snippets
from tests.fixtures.media import bus_video, photo
from tests.fixtures.receiver import Received, Receiver
from tests.fixtures.workflows import detect_workflow

HOOK_PORT = 9392  # the webhook receiver's: a private address, so the deployment must allow it
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize(
    "deployment", [{"CONVEYOR_WEBHOOK_ALLOWED_HOSTS": f'["127.0.0.1:{HOOK_PORT}"]'}], indirect=True)]

PAGES = [page for page in pages() if snippets(page)]


def readers_folder(root: Path) -> Path:
    folder = root / "reader"
    (folder / "photos").mkdir(parents=True)
    for name in ("bus.jpg", "zidane.jpg"):
        (folder / "photos" / name).write_bytes(photo(name))
    (folder / "clips").mkdir()
    (folder / "clips" / "bus.mp4").write_bytes(bus_video(frames=20, fps=10))
    (folder / "workflow.json").write_text(json.dumps(detect_workflow()))
    onnx_models.colour_classifier(folder / "tags.onnx", softmax=False)
    onnx_models.square_segmenter(folder / "parts-seg.onnx")
    onnx_models.two_point_poser(folder / "poses.onnx")
    (folder / ".venv").symlink_to(REPO_ROOT / ".venv")
    return folder


@dataclass(frozen=True)
class Reader:
    folder: Path
    home: Path  # CONVEYOR_HOME: the key of the page's own workspace
    key: str


def a_reader(deployment: Deployment, root: Path) -> Reader:
    made = conveyor("workspace", "create", f"docs-{uuid.uuid4().hex[:10]}", home=deployment.home, env=deployment.env)
    key = re.search(r"cvr_\S+", made.stdout)
    assert made.returncode == 0 and key, made.stdout + made.stderr
    home = root / "home"
    home.mkdir()
    (home / "api_key").write_text(key.group(0) + "\n")
    return Reader(readers_folder(root), home, key.group(0))


async def a_delivery(deployment: Deployment, reader: Reader) -> Received:
    """A real job's webhook, as a receiver got it."""
    hook = Receiver(HOOK_PORT)
    await hook.start()
    try:
        def start() -> None:
            with ConveyorClient(deployment.base_url, reader.key) as client:
                client.stage_folder("docs-hooks", reader.folder / "photos")
                client.put_workflow("docs-hooks", detect_workflow())
                client.start_job("docs-hooks-1", "docs-hooks", "docs-hooks",
                                 notifications_url=f"http://127.0.0.1:{hook.port}/hook")
        await asyncio.to_thread(start)
        for _ in range(600):
            ended = [r for r in hook.requests if b'"job_state"' in r.body]
            if ended:
                return ended[0]
            await asyncio.sleep(0.5)
    finally:
        await hook.stop()
    raise AssertionError("no job webhook within 5 minutes")


def given_names(snippet: Snippet, deployment: Deployment, reader: Reader, kept: list[Received]) -> str:
    """Python that defines what the snippet's page says the reader holds, from a real delivery (one per page,
    kept in ``kept``)."""
    if not snippet.given:
        return ""
    if not kept:
        kept.append(asyncio.run(a_delivery(deployment, reader)))
    delivery = kept[0]
    with ConveyorClient(deployment.base_url, reader.key) as client:
        secret = client.webhook_secret()["secret"]
    values: dict[str, Any] = {"secret": secret, "headers": delivery.headers, "body": delivery.body}
    unknown = set(snippet.given) - {*values, "request"}
    assert not unknown, f"{snippet.name}: the test cannot give {unknown}"
    return ("import types\n" + "".join(f"{name} = {value!r}\n" for name, value in values.items())
            + "request = types.SimpleNamespace(headers=headers, body=body)\n")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_every_snippet_of_the_page_runs_as_written(deployment: Deployment, tmp_path: Path, page: Path) -> None:
    reader = a_reader(deployment, tmp_path)
    env = {**os.environ, **deployment.env, "CONVEYOR_HOME": str(reader.home), "API_BASE_URL": deployment.base_url,
           "PATH": f"{reader.folder / '.venv' / 'bin'}:{os.environ['PATH']}"}
    kept: list[Received] = []
    for snippet in snippets(page):
        code = snippet.block.code
        if snippet.block.language in ("python", "py"):
            command = [sys.executable, "-c", given_names(snippet, deployment, reader, kept) + code]
        else:
            command = ["bash", "-e", "-o", "pipefail", "-c", code]
        done = subprocess.run(command, cwd=reader.folder, env=env, capture_output=True, text=True, timeout=480)
        assert done.returncode == 0, f"{snippet.block.where} ({snippet.name}) failed:\n{done.stderr[-3000:]}"
        if snippet.output is not None:
            assert done.stdout.splitlines() == snippet.output.splitlines(), f"{snippet.name} printed {done.stdout!r}"
