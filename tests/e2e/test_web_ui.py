"""The web UI in headless Chromium (Debian's, driven by Playwright) against a running deployment: sign in,
start a job from the form, follow it live (server-sent events) to the export links, browse batches with their
failed files, workflows, models and the webhook log. Every page is screenshotted and the shots checked."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.config import REPO_ROOT
from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg, photo, tar_of
from tests.fixtures.workflows import detect_workflow

SHOTS = REPO_ROOT / ".artifacts" / "ui"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:  # Debian's package; Playwright's own browser download is not reachable here
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"], check=True,
                       capture_output=True, timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        chromium = shutil.which("chromium") or pytest.fail("Debian's chromium could not be installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    image = cv2.imread(str(path))
    assert image is not None and image.shape[:2] == (800, 1280), name
    assert float(np.std(image)) > 10, f"{name} looks blank"  # text, tables and colours, not an empty page


def test_the_web_ui_drives_a_job_end_to_end(deployment: Deployment, browser: Browser) -> None:
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    members = {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "extra.jpg": jpeg(7),
               "broken.jpg": b"\xff\xd8\xff\xe0 this is not a jpeg"}  # refused while indexing: a failed file
    staging = f"{base}/data-staging/v1/external/{ws}/batches/ui-photos"
    signed = httpx.post(f"{staging}/bulk-upload/image-files", params={"api_key": key}).json()["signedURLDetails"]
    assert httpx.put(signed["uploadURL"], content=tar_of(members), headers=signed["extensionHeaders"]).status_code < 300
    deadline = time.monotonic() + 60
    while httpx.get(f"{staging}/count", params={"api_key": key}).json()["count"] < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert httpx.put(f"{base}/{ws}/workflows/ui-detect", params={"api_key": key},
                     json={"specification": detect_workflow(visualise=True)}).status_code == 200

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{base}/ui/")
    page.fill("#key", "cvr_wrong")
    page.click("#go")
    expect(page.locator(".error-text")).to_contain_text("invalid or revoked API key")
    page.fill("#key", key)
    page.click("#go")
    expect(page.locator("#who")).to_contain_text(ws)
    shot(page, "jobs")

    form = page.locator("#newjob")
    form.locator("[name=jobId]").fill("ui-job")
    form.locator("[name=batch]").select_option("ui-photos")
    form.locator("[name=workflow]").select_option("ui-detect")
    form.locator("[name=format]").select_option("csv")
    form.locator("[name=persist]").select_option("1")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{base}/ui/#/jobs/ui-job")
    expect(page.locator("#live .badge")).to_have_text("succeeded", timeout=120_000)  # pushed by server-sent events
    expect(page.locator("#pct")).to_have_text("100%")
    expect(page.locator("#eta")).to_contain_text("done")
    expect(page.locator("#abort")).to_be_disabled()
    expect(page.locator("#restart")).to_be_disabled()
    expect(page.locator("#stages")).to_contain_text("processing")
    expect(page.locator("#stages")).to_contain_text("export")
    expect(page.locator("a.download").first).to_be_visible()
    href = page.locator("a.download").first.get_attribute("href")
    assert href and httpx.get(href if href.startswith("http") else base + href).content[:2] == b"\x1f\x8b"  # tar.gz
    expect(page.locator("#logs")).to_contain_text("job-succeeded")
    shot(page, "job")

    job = httpx.get(f"{base}/batch-processing/v1/external/{ws}/jobs/ui-job", params={"api_key": key}).json()["job"]
    spec = job["jobDefinition"]["processingSpecification"]
    assert spec["aggregationFormat"] == "csv" and spec["persistImagesOutputs"] is True

    page.click("nav >> text=Batches")
    page.locator("tr.link", has_text="ui-photos").click()
    expect(page.locator("h1")).to_have_text("Batch ui-photos")
    expect(page.locator("main")).to_contain_text("broken.jpg")  # the failed file, with its reason
    expect(page.locator("main")).to_contain_text("bus.jpg")
    shot(page, "batch")

    page.click("nav >> text=Workflows")
    page.locator("tr.link", has_text="ui-detect").click()
    expect(page.locator("#spec")).to_have_value(re.compile("roboflow_object_detection_model"))
    shot(page, "workflows")
    page.click("nav >> text=Models")
    expect(page.locator("main")).to_contain_text("yolov4-tiny-coco")
    shot(page, "models")
    page.click("nav >> text=Webhooks")
    expect(page.locator("h1")).to_have_text("Webhooks")
    first = page.locator("#secret").inner_text()
    assert first.startswith("whsec_")
    page.click("#rotate")  # a new secret; the previous one signs beside it for the grace period
    expect(page.locator("#secret")).not_to_have_text(first)
    expect(page.locator("#signing")).to_contain_text("previous secret also signs")
    shot(page, "webhooks")
    page.close()

