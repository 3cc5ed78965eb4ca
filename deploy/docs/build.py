"""``python -m deploy.docs.build [--site-dir DIR]``: build the documentation site (strict: a broken link or a
page missing from the navigation fails the build) into ``site/``, where the gateway serves it at ``/docs``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from shared.config import REPO_ROOT


def build(site_dir: Path) -> None:
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # the theme's notice of its successor, on every build
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(str(REPO_ROOT / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site-dir", type=Path, default=REPO_ROOT / "site")
    build(parser.parse_args().site_dir.resolve())


if __name__ == "__main__":
    main()
