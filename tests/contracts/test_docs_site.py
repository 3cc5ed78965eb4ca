"""The documentation site: it builds in strict mode, shows every page of ``docs/``, loads nothing from
elsewhere (the gateway serves it to deployments that are often offline), and every block a reader would paste
is either run by ``tests/e2e/test_docs_snippets.py`` or says which test runs what it shows."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from deploy.docs.build import build
from shared.config import REPO_ROOT
from tests.fixtures.doc_snippets import problems

pytestmark = pytest.mark.contracts

README_MAX_LINES = 300


class _Assets(HTMLParser):
    """The addresses a page loads by itself (scripts, styles, icons, images, fonts), not the links it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loaded.append(a["src"] or "")
        if tag == "link" and a.get("href") and not {"canonical", "alternate"} & set((a.get("rel") or "").split()):
            self.loaded.append(a["href"] or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build(out)  # strict: a broken link or a missing page fails it
    return out


def test_the_site_builds_with_every_page_in_its_navigation(site: Path) -> None:
    config = yaml.load((REPO_ROOT / "mkdocs.yml").read_text(), Loader=yaml.Loader)

    def listed(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in listed(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in listed(value)]
        return []

    pages = listed(config["nav"])
    written = {str(p.relative_to(REPO_ROOT / "docs")) for p in (REPO_ROOT / "docs").rglob("*.md")}
    assert written - set(pages) == set(), "pages of docs/ missing from mkdocs.yml's nav"
    for page in pages:  # the written pages and those made from code (the references)
        assert (site / page.removesuffix(".md").removesuffix("index") / "index.html").exists(), page


def test_the_site_loads_nothing_from_elsewhere(site: Path) -> None:
    outside = []
    for page in site.rglob("*.html"):
        parser = _Assets()
        parser.feed(page.read_text())
        outside += [f"{page.relative_to(site)}: {url}" for url in parser.loaded if re.match(r"^(https?:)?//", url)]
    for style in site.rglob("*.css"):
        outside += [f"{style.relative_to(site)}: {url}" for url in re.findall(r"url\(['\"]?((?:https?:)?//[^)'\"]+)",
                                                                            style.read_text())]
    assert outside == []
    assert (site / "assets" / "vendor" / "mermaid.min.js").stat().st_size > 1_000_000  # the theme's CDN skipped


def test_the_references_are_made_from_the_code(site: Path) -> None:
    rest = (site / "reference" / "rest-api" / "index.html").read_text()
    for path in ("/data-staging/v1/external/{workspace}/batches", "/batch-processing/v1/external/{workspace}/jobs",
                 "/notifications/v1/{workspace}/deliveries"):
        assert path in rest
    events = (site / "reference" / "events" / "index.html").read_text()
    for topic in ("conveyor.jobs.states.v1", "conveyor.ingest.shards.v1", "JobStateChangedV1", "correlation_id"):
        assert topic in events


def test_every_block_a_reader_would_paste_is_run_or_says_what_runs_it() -> None:
    assert problems() == []


def test_the_readme_is_a_front_door() -> None:
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES
    for page in re.findall(r"\]\((docs/[^)#]+)\)", "\n".join(lines)):
        assert (REPO_ROOT / page).exists(), page
