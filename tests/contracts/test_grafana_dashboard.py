"""The Grafana dashboard in deploy/ asks only for metrics, labels and label values the code exports."""

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from shared import metrics
from shared.config import REPO_ROOT

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "conveyor-dashboard.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
# label values the code sets (grep the .labels(...) calls when one is added)
VALUES = {"outcome": {"processed", "failed", "succeeded", "aborted", "stored", "indexed", "delivered", "retry"}}


def _exported() -> dict[str, tuple[str, ...]]:
    """Every sample name the services export, with its metric's labels (``le`` for histogram buckets)."""
    found: dict[str, tuple[str, ...]] = {}
    for collector in vars(metrics).values():
        if isinstance(collector, Counter | Gauge | Histogram):
            kind = collector._type
            for suffix in SUFFIXES[kind]:
                labels = tuple(collector._labelnames) + (("le",) if suffix == "_bucket" else ())
                found[collector._name + suffix] = labels
    return found


def _expressions() -> list[str]:
    dashboard = json.loads(Path(DASHBOARD).read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["type"] == "timeseries" and set(panel["gridPos"]) == {"h", "w", "x", "y"}, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_every_metric_label_and_value_of_the_dashboard_is_exported() -> None:
    exported = _exported()
    used: set[str] = set()
    for expr in _expressions():
        names = re.findall(r"\b(conveyor_[a-z_]+)", expr)
        assert names, expr
        for name in names:
            assert name in exported, f"{name} (in {expr!r}) is not exported by shared/metrics.py"
            used.add(name)
            for selector in re.findall(rf"{name}\{{([^}}]*)\}}", expr):
                for label, value in re.findall(r'(\w+)\s*!?=~?\s*"([^"]*)"', selector):
                    assert label in exported[name], f"{name} has no label {label!r}"
                    assert value in VALUES.get(label, {value}), f"{label}={value!r} is never set"
        for group in re.findall(r"by \(([^)]*)\)", expr):
            labels = {g.strip() for g in group.split(",")}
            assert labels <= set().union(*(exported[n] for n in names)), f"{expr}: grouped by unknown {labels}"
    shown = {c._name for c in vars(metrics).values() if isinstance(c, Counter | Gauge | Histogram)
             if any(u == c._name + s for u in used for s in SUFFIXES[c._type])}
    every = {c._name for c in vars(metrics).values() if isinstance(c, Counter | Gauge | Histogram)}
    assert every == shown, f"metrics the dashboard shows nowhere: {sorted(every - shown)}"
