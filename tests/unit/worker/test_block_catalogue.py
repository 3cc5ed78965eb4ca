"""The compiler's catalogue and the worker's run functions list the same blocks: a block that compiles always
has something to run it, stateful ones with the per-video state."""

from shared.workflows.catalogue import CATALOGUE
from worker_svc.workflows.blocks import RUNS, STATEFUL


def test_every_catalogued_block_runs_and_every_run_is_catalogued() -> None:
    stateless = {b.name for b in CATALOGUE if not b.stateful}
    stateful = {b.name for b in CATALOGUE if b.stateful or b.stateful_when}
    assert stateless == set(RUNS) and stateful == set(STATEFUL)
