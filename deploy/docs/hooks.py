"""MkDocs hook (mkdocs.yml ``hooks``): adds the pages made from code, the REST API and event references, and
the Mermaid script the site serves itself. Nothing it adds is committed, so nothing of it can go stale."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from deploy.docs import assets, event_reference, rest_reference


def on_files(files: Files, config: Any) -> Files:
    rest = rest_reference.page(rest_reference.documents())
    files.append(File.generated(config, "reference/rest-api.md", content=rest))
    files.append(File.generated(config, "reference/events.md", content=event_reference.page()))
    files.append(File.generated(config, "assets/vendor/mermaid.min.js", abs_src_path=str(assets.mermaid_js())))
    return files
