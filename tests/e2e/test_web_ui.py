"""The web UI in headless Chromium (Debian's, driven by Playwright) against a running deployment: sign in,
start a job from the form, follow it live (server-sent events) to the export links, browse batches with their
failed files, workflows, models and the webhook log. Every page is screenshotted and the shots checked."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.config import REPO_ROOT
from tests import prepare
from tests.fixtures.cli import conveyor
from tests.fixtures.deployment import Deployment, workers_paused
from tests.fixtures.media import bus_video, jpeg, photo, tar_of
from tests.fixtures.pipeline import job_body
from tests.fixtures.workflows import detect_workflow

SHOTS = REPO_ROOT / ".artifacts" / "ui"
# tasks of the default size: a 1,000-image job is 16 of them, not the 250 of the e2e deployment's 4 per task
# a webhook target nobody listens on, allowed, and given up after one attempt: a dead letter to redeliver
DEAD_HOOK = "127.0.0.1:9"
pytestmark = pytest.mark.parametrize("deployment", [{
    "SCHEDULER_IMAGES_PER_TASK": "64", "CONVEYOR_WEBHOOK_ALLOWED_HOSTS": f'["{DEAD_HOOK}"]',
    "NOTIFIER_MAX_ATTEMPTS": "1"}], indirect=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    prepare.debian("chromium")  # Debian's: Playwright's own browser download is not reachable here
    chromium = shutil.which("chromium") or pytest.fail("Debian's chromium could not be installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def signed_in(browser: Browser, deployment: Deployment, *, clock: bool = False) -> Page:
    """A page of the UI signed in with the deployment's key; ``clock``: its clock installed, to be run forward."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    if clock:
        page.clock.install()
    page.goto(f"{deployment.base_url}/ui/")
    page.fill("#key", deployment.api_key)
    page.click("#go")
    expect(page.locator("#who")).to_contain_text(deployment.workspace)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    image = cv2.imread(str(path))
    assert image is not None and image.shape[:2] == (800, 1280), name
    assert float(np.std(image)) > 10, f"{name} looks blank"  # text, tables and colours, not an empty page


def test_the_web_ui_drives_a_job_end_to_end(deployment: Deployment, browser: Browser, tmp_path: Path) -> None:
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    members = {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "extra.jpg": jpeg(7),
               "broken.jpg": b"\xff\xd8\xff\xe0 this is not a jpeg",  # refused while indexing: a failed file
               "notification_config.json": json.dumps({"ingestId": "ui-ingest", "notificationsURL":
                                                       f"http://{DEAD_HOOK}/hooks"}).encode()}
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
    page.click("nav >> text=Jobs")
    page.locator("#jobsearch [name=search]").fill("no-such-job")
    page.locator("#jobsearch button").click()
    expect(page.locator("main table").last).to_contain_text("nothing yet")
    page.locator("#jobsearch [name=search]").fill("UI-JOB")
    page.locator("#jobsearch button").click()
    expect(page.locator("tr.link", has_text="ui-job")).to_be_visible()
    page.goto(f"{base}/ui/#/jobs/ui-job")
    expect(page.locator("#live .badge")).to_have_text("succeeded")
    _the_results_are_drawn(page, _detections(base, ws, key, "ui-job"))

    job = httpx.get(f"{base}/batch-processing/v1/external/{ws}/jobs/ui-job", params={"api_key": key}).json()["job"]
    spec = job["jobDefinition"]["processingSpecification"]
    assert spec["aggregationFormat"] == "csv" and spec["persistImagesOutputs"] is True

    page.click("nav >> text=Batches")
    listed = page.locator("tr.link", has_text="ui-photos")
    expect(listed.locator("td").nth(3)).to_have_text("3")  # files staged
    expect(listed.locator("td").nth(4)).to_have_text("1")  # refused while indexing
    listed.click()
    expect(page.locator("h1")).to_have_text("Batch ui-photos")
    expect(page.locator("#ingest")).to_contain_text("1 of 1 shards indexed · 3 files staged, 1 refused")
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
    # the ingest's two webhooks went to a closed port, once each: dead letters, sent again from the page
    deliveries = f"{base}/notifications/v1/{ws}/deliveries"

    def attempts(status: str | None = None) -> list[int]:
        found = httpx.get(deliveries, params={"api_key": key, **({"status": status} if status else {})}).json()
        return sorted(d["attempts"] for d in found["deliveries"] if d["subjectId"] == "ui-photos")

    until = time.monotonic() + 60
    while attempts("dead") != [1, 1] and time.monotonic() < until:
        time.sleep(0.3)
    page.click("nav >> text=Jobs")
    page.click("nav >> text=Webhooks")
    expect(page.locator("#dead-letters")).to_contain_text("2 dead letters")
    shot(page, "webhooks")
    page.click("#redeliver-dead")
    expect(page.locator("body")).to_contain_text("2 redelivered")
    until = time.monotonic() + 60
    while attempts("dead") != [2, 2] and time.monotonic() < until:  # each tried once more, and dead again
        time.sleep(0.3)
    assert attempts("dead") == [2, 2]
    # the same from the terminal: list the dead letters, send them again
    env = {**deployment.env, "API_BASE_URL": base, "CONVEYOR_API_KEY": key}
    dead = conveyor("webhooks", "deliveries", "--status", "dead", "--batch-id", "ui-photos", "--json",
                    home=tmp_path, env=env)
    assert dead.returncode == 0, dead.stderr
    assert sorted(d["attempts"] for d in json.loads(dead.stdout)) == [2, 2]
    again = conveyor("webhooks", "redeliver", "--batch-id", "ui-photos", home=tmp_path, env=env)
    assert again.returncode == 0 and "2 deliveries sent again" in again.stdout, again.stdout + again.stderr
    until = time.monotonic() + 60
    while attempts("dead") != [3, 3] and time.monotonic() < until:
        time.sleep(0.3)
    assert attempts("dead") == [3, 3]

    # API keys: make a read key (shown once), see it listed with its scope, revoke it
    page.click("nav >> text=Keys")
    expect(page.locator("h1")).to_have_text("API keys")
    page.locator("#newkey [name=scope]").select_option("read")
    page.locator("#newkey [name=label]").fill("ui-read")
    page.locator("#newkey button[type=submit]").click()
    expect(page.locator("#madekey")).to_be_visible()
    made = page.locator("#newsecret").inner_text()
    assert made.startswith("cvr_")
    row = page.locator("tr", has_text="ui-read")
    expect(row).to_contain_text("read")
    shot(page, "keys")
    assert httpx.get(f"{base}/batch-processing/v1/external/{ws}/jobs", params={"api_key": made}).status_code == 200
    assert httpx.put(f"{base}/{ws}/workflows/nope", params={"api_key": made}, json={}).status_code == 403
    row.locator("button.revoke").click()
    expect(page.locator("body")).to_contain_text("key revoked")
    assert httpx.get(f"{base}/batch-processing/v1/external/{ws}/jobs", params={"api_key": made}).status_code == 401
    page.close()



def _detections(base: str, ws: str, key: str, job_id: str) -> dict[str, list[tuple[str, float]]]:
    """(class, confidence) of every detection of each image, read from the job's result files (CSV here)."""
    listed = httpx.get(f"{base}/data-staging/v1/external/{ws}/batches/{job_id}-processing/list",
                       params={"api_key": key, "partName": "results"}).json()["filesMetadata"]
    found: dict[str, list[tuple[str, float]]] = {}
    for meta in listed:
        for row in csv.DictReader(io.StringIO(httpx.get(meta["downloadURL"]).text)):
            found[row["image"]] = [(d["class"], d["confidence"]) for d in json.loads(row["predictions"])["predictions"]]
    return found


def _the_results_are_drawn(page: Page, expected: dict[str, list[tuple[str, float]]]) -> None:
    """The gallery, its filters and charts show the job's detections, drawn from its rows in the browser."""
    expect(page.locator("#gallery figure[data-drawn='1']")).to_have_count(len(expected), timeout=30_000)
    bus = page.locator("#gallery figure[data-image='bus.jpg']")
    expect(bus).to_have_attribute("data-boxes", str(len(expected["bus.jpg"])))
    changed = page.evaluate("""async () => {  // pixels the boxes changed on the bus thumbnail
        const fig = document.querySelector("figure[data-image='bus.jpg']"), c = fig.querySelector("canvas");
        const img = new Image(); img.src = fig.dataset.src; await img.decode();
        const raw = document.createElement("canvas"); raw.width = c.width; raw.height = c.height;
        raw.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        const a = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        const b = raw.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < a.length; i += 4) {
          n += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 60;
        }
        return n; }""")
    assert changed > 50 * len(expected["bus.jpg"]), changed  # each box's outline, drawn on the photo
    counts = Counter(cls for found in expected.values() for cls, _ in found)
    bars = page.locator("#per-class rect.bar")
    expect(bars).to_have_count(len(counts))
    assert {b.get_attribute("data-label"): int(b.get_attribute("data-value") or 0) for b in bars.all()} == counts
    histogram = [float(b.get_attribute("data-value") or 0) for b in page.locator("#confidence rect.bar").all()]
    assert len(histogram) == 10 and sum(histogram) == sum(counts.values())
    assert page.locator("#throughput rect.bar").count() >= 1
    page.select_option("#cls", "person")  # one class: only the images with a person, only their people
    with_people = {name: [d for d in found if d[0] == "person"] for name, found in expected.items()}
    expect(page.locator("#gallery figure")).to_have_count(sum(1 for f in with_people.values() if f))
    expect(bus).to_have_attribute("data-boxes", str(len(with_people["bus.jpg"])))
    page.locator("#conf").fill("0.8")  # and only the confident ones
    expect(bus).to_have_attribute("data-boxes", str(sum(1 for _, c in with_people["bus.jpg"] if c >= 0.8)))
    page.select_option("#cls", "")
    page.locator("#conf").fill("0")
    bus.click()  # the full image, with labels
    expect(page.locator("#zoom")).to_be_visible()
    assert page.evaluate("document.getElementById('full').width") > 220
    shot(page, "results-zoom")
    page.click("#close")
    page.locator("#gallery").scroll_into_view_if_needed()
    shot(page, "results")


@pytest.mark.timeout(600)
def test_the_new_job_form_estimates_the_job_before_it_starts(deployment: Deployment, browser: Browser) -> None:
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    for i in range(3):
        assert httpx.post(f"{base}/data-staging/v1/external/{ws}/batches/ui-estimate/upload/image",
                          params={"api_key": key, "fileName": f"e{i}.jpg"},
                          files={f"e{i}.jpg": (f"e{i}.jpg", jpeg(40 + i))}).status_code == 200
    assert httpx.put(f"{base}/{ws}/workflows/ui-estimate", params={"api_key": key},
                     json={"specification": detect_workflow()}).status_code == 200
    page = signed_in(browser, deployment)
    form = page.locator("#newjob")
    form.locator("[name=batch]").select_option("ui-estimate")
    form.locator("[name=workflow]").select_option("ui-estimate")
    with page.expect_request(lambda r: r.url.split("?")[0].endswith("/jobs/estimate")) as sent:
        page.click("#estimate")  # no job id needed: nothing is started but the sample
    expect(page.locator("#estimate-summary")).to_contain_text("3 files in 1 tasks on cpu", timeout=120_000)
    assert len(sent.value.headers["idempotency-key"]) == 32  # a retry of a lost answer starts no second sample
    expect(page.locator("#estimated table")).to_contain_text("Machine-hours")
    expect(page.locator("#estimated table")).to_contain_text("Recommended max runtime")
    timeout = int(form.locator("[name=timeout]").input_value())
    assert timeout >= 60 and timeout % 60 == 0  # the form takes the recommended timeout
    page.locator("#estimate-summary a").click()  # the sample is a job of its own
    expect(page.locator("#live .badge")).to_have_text("succeeded")
    page.close()


def test_a_thousand_image_job_is_paged_not_frozen(deployment: Deployment, browser: Browser) -> None:
    """1,000 images on one side of the page boundary (48 thumbnails a page): 21 pages, the last one of 40; every
    page drawn promptly; the charts count all 1,000 rows, not the page's."""
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    staging = f"{base}/data-staging/v1/external/{ws}/batches/ui-thousand"
    for part in range(2):  # a bulk archive holds at most 500 images (INGEST_MAX_TAR_IMAGES)
        members = {f"t-{i:04d}.jpg": jpeg(1000 + i, size=(48, 64)) for i in range(500 * part, 500 * (part + 1))}
        signed = httpx.post(f"{staging}/bulk-upload/image-files", params={"api_key": key}).json()["signedURLDetails"]
        assert httpx.put(signed["uploadURL"], content=tar_of(members), headers=signed["extensionHeaders"],
                         timeout=60).status_code < 300
    deadline = time.monotonic() + 120
    while (count := httpx.get(f"{staging}/count", params={"api_key": key}).json()["count"]) < 1000:
        assert time.monotonic() < deadline, f"{count} of the 1,000 images indexed in time"
        time.sleep(0.5)
    assert httpx.put(f"{base}/{ws}/workflows/ui-detect", params={"api_key": key},
                     json={"specification": detect_workflow()}).status_code == 200
    body = job_body(ws, "ui-thousand", "ui-detect", aggregationFormat="jsonl")
    started = httpx.post(f"{base}/batch-processing/v1/external/{ws}/jobs/ui-thousand", params={"api_key": key},
                         json=body)
    assert started.status_code == 200, started.text

    page = signed_in(browser, deployment)
    # at once, while the sign-in still loads the jobs list: the job's page is what stays drawn
    page.goto(f"{base}/ui/#/jobs/ui-thousand")
    expect(page.locator("#live .badge")).to_have_text("succeeded", timeout=300_000)
    expect(page.locator("#pageno")).to_have_text("page 1 of 21", timeout=60_000)
    expect(page.locator("#gallery figure[data-drawn='1']")).to_have_count(48, timeout=30_000)
    histogram = [float(b.get_attribute("data-value") or 0) for b in page.locator("#confidence rect.bar").all()]
    total = sum(len(found) for found in _detections_jsonl(base, ws, key, "ui-thousand").values())
    assert sum(histogram) == total  # every row's detections, not one page's
    slowest = 0.0
    for n in range(2, 22):
        started_at = time.monotonic()
        page.click("#next")
        expect(page.locator("#pageno")).to_have_text(f"page {n} of 21")
        expect(page.locator("#gallery figure[data-drawn='1']")).to_have_count(48 if n < 21 else 40)
        slowest = max(slowest, time.monotonic() - started_at)
    assert slowest < 10, f"a page took {slowest:.1f} s to draw"
    expect(page.locator("#next")).to_be_disabled()
    shot(page, "results-thousand")
    page.close()


def _detections_jsonl(base: str, ws: str, key: str, job_id: str) -> dict[str, list[dict]]:
    listed, token = [], None
    while True:
        params = {"api_key": key, "partName": "results", **({"nextPageToken": token} if token else {})}
        page = httpx.get(f"{base}/data-staging/v1/external/{ws}/batches/{job_id}-processing/list",
                         params=params).json()
        listed += page["filesMetadata"]
        token = page.get("nextPageToken")
        if not token:
            break
    rows = [json.loads(line) for meta in listed for line in httpx.get(meta["downloadURL"]).text.splitlines()]
    assert len(rows) == 1000
    return {row["image"]: row["predictions"]["predictions"] for row in rows}


def test_a_job_that_makes_no_progress_is_flagged_on_its_page(deployment: Deployment, browser: Browser) -> None:
    """The deployment's workers stopped (SIGSTOP): the job's task waits, a real stall. Its page says so once nothing
    has moved for three minutes (the page's clock is run forward), naming the machine type it waits for."""
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    staging = f"{base}/data-staging/v1/external/{ws}/batches/ui-stalled"
    resp = httpx.post(f"{staging}/upload/image", params={"api_key": key, "fileName": "a.jpg"},
                      files={"a.jpg": ("a.jpg", jpeg(3))})
    assert resp.status_code == 200, resp.text
    assert httpx.put(f"{base}/{ws}/workflows/ui-stall", params={"api_key": key},
                     json={"specification": detect_workflow()}).status_code == 200
    jobs = f"{base}/batch-processing/v1/external/{ws}/jobs"
    with workers_paused(deployment):
        assert httpx.post(f"{jobs}/ui-stalled", params={"api_key": key},
                          json=job_body(ws, "ui-stalled", "ui-stall")).status_code == 200
        try:
            page = signed_in(browser, deployment, clock=True)
            page.goto(f"{base}/ui/#/jobs/ui-stalled")
            expect(page.locator("#live .badge")).to_have_text("processing")
            page.clock.fast_forward(2 * 60 * 1000)
            expect(page.locator("#stall")).to_be_hidden()  # two minutes: not yet
            page.clock.fast_forward(2 * 60 * 1000)
            expect(page.locator("#stall")).to_be_visible()
            expect(page.locator("#stall")).to_contain_text("No progress for 4 min in stage processing")
            expect(page.locator("#stall")).to_contain_text("waiting for a cpu worker")
            shot(page, "job-stalled")
            page.close()
        finally:
            httpx.post(f"{jobs}/ui-stalled/abort", params={"api_key": key})


def test_a_video_job_shows_its_frames_and_detections_over_time(deployment: Deployment, browser: Browser) -> None:
    """A video job's rows are frames, not images: its page counts the videos, frames and detections of its export,
    charts each video's detections per second of video time, and lists its frames."""
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    staging = f"{base}/data-staging/v1/external/{ws}/batches/ui-video"
    signed = httpx.post(f"{staging}/upload/video", params={"api_key": key, "fileName": "bus.mp4"}).json()
    upload = signed["signedURLDetails"]
    assert httpx.put(upload["uploadURL"], content=bus_video(frames=25, fps=10),
                     headers=upload["extensionHeaders"]).status_code < 300
    assert httpx.put(f"{base}/{ws}/workflows/ui-video-detect", params={"api_key": key},
                     json={"specification": detect_workflow()}).status_code == 200
    jobs = f"{base}/batch-processing/v1/external/{ws}/jobs"
    body = job_body(ws, "ui-video", "ui-video-detect", videos=True, aggregationFormat="jsonl")
    assert httpx.post(f"{jobs}/ui-video", params={"api_key": key}, json=body).status_code == 200
    deadline = time.monotonic() + 180
    while (state := httpx.get(f"{jobs}/ui-video", params={"api_key": key}).json()["job"]["state"]) != "succeeded":
        assert state not in ("failed", "aborted") and time.monotonic() < deadline, state
        time.sleep(0.5)
    listed = httpx.get(f"{base}/data-staging/v1/external/{ws}/batches/ui-video-processing/list",
                       params={"api_key": key, "partName": "results"}).json()["filesMetadata"]
    rows = [json.loads(line) for meta in listed for line in httpx.get(meta["downloadURL"]).text.splitlines()]
    detections = sum(len(r["predictions"]["predictions"]) for r in rows)
    assert len(rows) == 25 and detections > 0

    page = signed_in(browser, deployment)
    page.goto(f"{base}/ui/#/jobs/ui-video")
    expect(page.locator("#results h2").first).to_contain_text(f"1 video, 25 frames, {detections} detections",
                                                               timeout=30_000)
    video = page.locator(".video[data-video='bus.mp4']")
    expect(video).to_have_attribute("data-frames", "25")
    timeline = [float(b.get_attribute("data-value") or 0) for b in video.locator("rect.bar").all()]
    assert len(timeline) == 3 and sum(timeline) == detections  # 2.4 s of video: seconds 0, 1 and 2
    expect(video.locator("tbody tr")).to_have_count(25)
    per_class = [float(b.get_attribute("data-value") or 0) for b in page.locator("#per-class rect.bar").all()]
    assert sum(per_class) == detections
    shot(page, "results-video")
    page.close()


def test_the_docs_site_works_offline_from_the_gateway(deployment: Deployment, browser: Browser) -> None:
    """The gateway's /docs in Chromium: the diagram drawn, search answering, the REST reference there, and not
    one request to another address (the theme fetches Mermaid from a CDN unless the site brings its own)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{deployment.base_url}/docs/architecture/")
    # the theme draws the diagram into a closed shadow root: what shows is that its box took the drawing's size
    page.wait_for_function("() => { const d = document.querySelector('div.mermaid');"
                           " return d !== null && d.getBoundingClientRect().height > 200; }", timeout=20_000)
    shot(page, "docs-architecture")
    page.keyboard.press("/")  # the theme's search shortcut; it searches as keys are typed
    page.keyboard.type("signature")
    expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=10_000)
    page.goto(f"{deployment.base_url}/docs/reference/rest-api/")
    expect(page.locator("h3", has_text="/batch-processing/v1/external/{workspace}/jobs").first).to_be_visible()
    elsewhere = [url for url in asked if not url.startswith((deployment.base_url, "data:", "blob:"))]
    assert elsewhere == []
    page.close()
