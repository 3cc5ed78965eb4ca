"""A worker's view of stopped jobs: a stop counts for tasks dispatched before it, the latest event wins."""

from datetime import UTC, datetime, timedelta

from shared.events import JobStateChangedV1
from worker_svc.stops import StoppedJobs

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(state: str, at: datetime) -> JobStateChangedV1:
    return JobStateChangedV1(workspace_id="w", job_id="j", state=state, occurred_at=at)


async def test_an_abort_stops_tasks_dispatched_before_it_and_not_after_a_restart() -> None:
    stops = StoppedJobs()
    await stops.on_state_changed(_event("processing", T0))
    assert stops.stopped("w", "j", T0 + timedelta(seconds=1)) is None
    await stops.on_state_changed(_event("aborted", T0 + timedelta(seconds=10)))
    assert stops.stopped("w", "j", T0 + timedelta(seconds=1)) == "aborted"
    # a restart's task, taken before its "processing" event was read: the abort came before the dispatch
    assert stops.stopped("w", "j", T0 + timedelta(seconds=20)) is None
    await stops.on_state_changed(_event("processing", T0 + timedelta(seconds=19)))
    assert stops.stopped("w", "j", T0 + timedelta(seconds=1)) is None


async def test_an_older_event_arriving_late_changes_nothing() -> None:
    stops = StoppedJobs()
    await stops.on_state_changed(_event("failed", T0 + timedelta(seconds=10)))
    await stops.on_state_changed(_event("processing", T0))
    assert stops.stopped("w", "j", T0 + timedelta(seconds=5)) == "failed"
    assert stops.stopped("w", "other", T0) is None
