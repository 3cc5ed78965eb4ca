"""Test session wiring. Fixtures live in tests/fixtures/ (never import from a conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.images import limit_decoder_pixels

# before any fixture or test module imports cv2: the services in this process decode with OpenCV's own limit
limit_decoder_pixels()

pytest_plugins = ["tests.fixtures.stack", "tests.fixtures.resources", "tests.fixtures.ingest",
                  "tests.fixtures.deployment", "tests.fixtures.pipeline", "tests.fixtures.engine",
                  "tests.fixtures.chaos", "tests.fixtures.hooks", "tests.fixtures.hosts"]

_TIERS = ("unit", "integration", "contracts", "e2e", "chaos")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its tier, taken from its folder (tests/<tier>/...)."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))
