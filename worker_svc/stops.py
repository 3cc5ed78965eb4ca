"""Which jobs this worker process has heard were stopped (aborted, failed, finished processing), from the job
lifecycle events every worker reads as a broadcast: a running task looks here every
``WORKER_ABORT_CHECK_INTERVAL_S`` and stops within about a second of the event.

Lifecycle events and tasks travel on different topics, so a worker may take a task before it has read the
event that came before it (a restart's ``processing`` after the abort). A stop therefore counts for a task only
when it happened after the task was dispatched (both times are the scheduler's); and for each job only the
latest event counts, whatever order they arrive in."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from shared.events import JobState, JobStateChangedV1

# a bound on memory: the most recent this many jobs' states are kept (a job older than that has no task left)
MAX_JOBS = 100_000


class StoppedJobs:
    def __init__(self) -> None:
        self._states: OrderedDict[tuple[str, str], tuple[str, datetime]] = OrderedDict()

    async def on_state_changed(self, event: JobStateChangedV1) -> None:
        key = (event.workspace_id, event.job_id)
        known = self._states.get(key)
        if known is not None and known[1] > event.occurred_at:
            return  # an older event, arriving late
        self._states[key] = (event.state, event.occurred_at)
        self._states.move_to_end(key)
        while len(self._states) > MAX_JOBS:
            self._states.popitem(last=False)

    def stopped(self, workspace_id: str, job_id: str, dispatched_at: datetime) -> str | None:
        """The job's state when it stopped processing after a task dispatched at ``dispatched_at``, else None."""
        known = self._states.get((workspace_id, job_id))
        if known is None or known[0] in (JobState.PROCESSING, JobState.PENDING) or known[1] <= dispatched_at:
            return None
        return known[0]
