"""Scripts the site serves itself instead of loading them from a CDN: Mermaid, which draws the diagrams.

It comes from the npm registry once per machine (``npm pack``, checked against the registry's published
sha512) and is kept in the user's cache; the theme loads it from a CDN unless the page already has it."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MERMAID = "11.17.2"
# `npm view mermaid@11.17.2 dist.integrity`
MERMAID_SHA512 = "V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conveyor"


def mermaid_js() -> Path:
    """The path of ``mermaid.min.js``, fetched the first time."""
    kept = cache_dir() / f"mermaid-{MERMAID}.min.js"
    if kept.exists():
        return kept
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("building the docs needs npm once, to fetch Mermaid (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"mermaid@{MERMAID}", "--pack-destination", tmp, "--silent"], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        (archive,) = Path(tmp).glob("mermaid-*.tgz")
        digest = base64.b64encode(hashlib.sha512(archive.read_bytes()).digest()).decode()
        if digest != MERMAID_SHA512:
            raise RuntimeError(f"mermaid {MERMAID} from npm does not match its published sha512")
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/dist/mermaid.min.js")
            assert member is not None
            kept.parent.mkdir(parents=True, exist_ok=True)
            partial = kept.with_suffix(".partial")
            partial.write_bytes(member.read())
            partial.replace(kept)
    return kept
