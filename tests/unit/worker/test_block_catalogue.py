"""A block is two modules of one name: its spec in ``shared/workflows/blocks/`` and its run in
``worker_svc/workflows/runs/``, both found, never listed. The compiler's catalogue and the worker's runs list the
same blocks (a block that compiles always has something to run it, stateful ones with the per-video state), and a
block's name is written in no other file of the code, so adding one adds two files and edits none."""

import re
from pathlib import Path
from typing import Any, cast

import pytest

from shared.config import REPO_ROOT
from shared.workflows.catalogue import CATALOGUE
from worker_svc.workflows.blocks import BATCHED, RUNS, STATEFUL

SPECS = REPO_ROOT / "shared" / "workflows" / "blocks"
RUN_MODULES = REPO_ROOT / "worker_svc" / "workflows" / "runs"
CODE = ("ingest_svc", "scheduler_svc", "worker_svc", "export_svc", "notifier_svc", "shared", "deploy",
        "conveyor_client")


def test_every_catalogued_block_runs_and_every_run_is_catalogued() -> None:
    stateless = {b.name for b in CATALOGUE if not b.stateful}
    stateful = {b.name for b in CATALOGUE if b.stateful or b.stateful_when}
    assert stateless == set(RUNS) and stateful == set(STATEFUL) and set(BATCHED) <= stateless


def test_each_block_is_a_spec_module_and_a_run_module_of_its_name() -> None:
    names = {b.name for b in CATALOGUE}
    assert len(names) == 76
    assert names == {p.stem for p in SPECS.glob("*.py")} - {"__init__"}
    assert names == {p.stem for p in RUN_MODULES.glob("*.py")} - {"__init__"}


# words that name a block and, in the same spelling, something else of the data model
OTHER_MEANINGS = {"classification": "a model task", "ocr": "the engine host's model kind",
                  "threshold": "a parameter of the motion blocks", "time_in_zone": "a field of timed detections",
                  # a part of Roboflow's type names, from which model_steps reads a step's model task on either
                  # backend, whatever the version
                  **dict.fromkeys(("instance_segmentation", "keypoint_detection", "multi_label_classification"),
                                  "a part of Roboflow's model block type names")}


def test_a_block_s_name_is_written_only_in_its_own_two_modules() -> None:
    sources = {p: p.read_text() for folder in CODE for p in (REPO_ROOT / folder).rglob("*.py")}
    elsewhere = {}
    for name in {b.name for b in CATALOGUE} - set(OTHER_MEANINGS):
        # as a key or a value, not a word of a sentence; types_of's first argument is Roboflow's type family
        quoted = re.compile(rf"""(?<!types_of\()["']{name}["']""")
        found = {p.relative_to(REPO_ROOT) for p, text in sources.items() if quoted.search(text)}
        own = {Path(f"shared/workflows/blocks/{name}.py"), Path(f"worker_svc/workflows/runs/{name}.py")}
        if found - own:
            elsewhere[name] = sorted(map(str, found - own))
    assert elsewhere == {}


def test_a_new_block_is_two_new_files_found_compiled_checked_and_run(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A block added the way the layout says, in folders of its own laid beside the two packages: found by both
    sides, compiled in a definition, its own save-time check applied, and run."""
    from shared.workflows import blocks as spec_package
    from shared.workflows import catalogue, compiler
    from shared.workflows.errors import WorkflowInvalid
    from worker_svc.workflows import blocks as worker_blocks
    from worker_svc.workflows import runs as run_package

    (tmp_path / "specs").mkdir()
    (tmp_path / "runs").mkdir()
    (tmp_path / "specs" / "shout.py").write_text(
        "from shared.workflows.blockspec import BlockSpec\n"
        "from shared.workflows.errors import WorkflowInvalid\n"
        "SPECS = (BlockSpec(types=('acme/shout@v1',), params={'data': 'data', 'marks': 'value'},\n"
        "                   required=('data',), outputs=('output',), defaults={'marks': 1}),)\n"
        "def check(step, block, where):\n"
        "    if isinstance(step.get('marks'), int) and step['marks'] < 0:\n"
        "        raise WorkflowInvalid(f'{where}: marks must not be negative')\n")
    (tmp_path / "runs" / "shout.py").write_text(
        "def run(_models, p):\n    return {'output': str(p['data']).upper() + '!' * p['marks']}\n")
    monkeypatch.setattr(spec_package, "__path__", [*spec_package.__path__, str(tmp_path / "specs")])
    monkeypatch.setattr(run_package, "__path__", [*run_package.__path__, str(tmp_path / "runs")])

    specs, checks = catalogue._discover()
    runs, _, _ = worker_blocks._discover()
    (shout,) = [spec for spec in specs if spec.name == "shout"]
    monkeypatch.setattr(compiler, "BY_TYPE", {**catalogue.BY_TYPE, "acme/shout@v1": shout})
    monkeypatch.setattr(catalogue, "CHECKS", checks)
    definition: dict[str, Any] = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"},
                                               {"type": "WorkflowParameter", "name": "text"}],
                  "steps": [{"type": "acme/shout@v1", "name": "loud", "data": "$inputs.text", "marks": 2}],
                  "outputs": [{"type": "JsonField", "name": "said", "selector": "$steps.loud.output"}]}
    (step,) = compiler.compile_workflow(definition).steps
    assert step.block.name == "shout"
    assert runs["shout"](cast(Any, None), {"data": "hi", "marks": 2}) == {"output": "HI!!"}
    definition["steps"][0]["marks"] = -1
    with pytest.raises(WorkflowInvalid, match="marks must not be negative"):
        compiler.compile_workflow(definition)
