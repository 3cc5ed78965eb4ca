"""The scheduler's state machine on plain inputs, on both sides of each boundary: a task's retries, a job's
timeout and failure rate, what follows a task, dispatch slots, a job no worker serves, and restarts."""

import pytest

from scheduler_svc.decisions import (
    Progress,
    after_task,
    free_slots,
    limit_passed,
    restartable,
    task_row_after,
    timed_out,
    unserved,
)
from shared.events import JobState, TaskStatus


@pytest.mark.parametrize(("status", "attempt", "row"), [
    (TaskStatus.SUCCEEDED, 1, "succeeded"), (TaskStatus.SUCCEEDED, 3, "succeeded"),
    (TaskStatus.FAILED, 1, "pending"), (TaskStatus.FAILED, 2, "pending"),  # retried as the next attempt
    (TaskStatus.FAILED, 3, "failed"),  # the last attempt fails the task (and the job)
    (TaskStatus.ABORTED, 1, "aborted"), (TaskStatus.ABORTED, 3, "aborted"),
])
def test_a_failed_attempt_is_retried_until_the_last(status: TaskStatus, attempt: int, row: str) -> None:
    assert task_row_after(status, attempt, max_attempts=3) == row


def _progress(**kw: object) -> Progress:
    base: dict[str, object] = {"runtime_s": 10.0, "timeout_s": 60, "files_total": 100, "files_processed": 50,
                               "files_failed": 0, "max_failure_rate": None, "tasks": {"succeeded": 2, "pending": 2}}
    return Progress(**{**base, **kw})  # type: ignore[arg-type]


def test_the_timeout_is_the_cumulative_runtime_and_is_passed_only_above_it() -> None:
    assert limit_passed(_progress(runtime_s=60.0)) is None
    reason = limit_passed(_progress(runtime_s=60.001))
    assert reason is not None and "processingTimeoutSeconds=60" in reason
    assert not timed_out(50.0, 10.0, 60) and timed_out(50.0, 10.5, 60)  # finished work plus what runs now


def test_the_failure_rate_is_passed_only_above_it() -> None:
    assert limit_passed(_progress(files_failed=10, max_failure_rate=0.1)) is None  # 10 of 100: at the limit
    reason = limit_passed(_progress(files_failed=11, max_failure_rate=0.1))
    assert reason == "11 of 61 files failed, above maxImageFailureRate 0.1"
    assert limit_passed(_progress(files_failed=99)) is None  # no rate asked for: failures alone do not stop it
    assert limit_passed(_progress(files_total=0, files_failed=0, max_failure_rate=0.0)) is None


def test_after_a_task_the_job_dispatches_until_every_task_succeeded_then_exports() -> None:
    assert after_task(_progress(tasks={"succeeded": 3, "running": 1})).action == "dispatch"
    assert after_task(_progress(tasks={"succeeded": 3, "failed": 1})).action == "dispatch"
    assert after_task(_progress(tasks={"succeeded": 4})).action == "export"


def test_a_job_whose_every_file_failed_fails_instead_of_exporting() -> None:
    done = {"succeeded": 4}
    failed_all = after_task(_progress(files_processed=0, files_failed=100, tasks=done))
    assert failed_all.action == "fail" and failed_all.reason is not None and "every file failed" in failed_all.reason
    assert after_task(_progress(files_processed=1, files_failed=99, tasks=done)).action == "export"
    assert after_task(_progress(files_processed=0, files_failed=0, tasks=done)).action == "export"  # an empty batch


def test_an_estimate_s_sample_succeeds_when_its_tasks_end_whatever_failed() -> None:
    assert after_task(_progress(sample=True, files_processed=0, files_failed=8, tasks={"succeeded": 2})).action \
        == "succeed"
    assert after_task(_progress(sample=True, tasks={"succeeded": 1, "queued": 1})).action == "dispatch"


@pytest.mark.parametrize(("tasks", "free"), [
    ({}, 4), ({"queued": 1, "running": 2}, 1), ({"queued": 2, "running": 2}, 0), ({"running": 6}, 0),
    ({"succeeded": 10, "pending": 10}, 4),  # ended and waiting tasks take no slot
])
def test_a_job_dispatches_up_to_its_parallel_tasks(tasks: dict[str, int], free: int) -> None:
    assert free_slots(4, tasks) == free


@pytest.mark.parametrize(("machine", "live", "waited", "policy", "action"), [
    ("gpu", set(), 59.9, "cpu", "wait"),  # not waited long enough
    ("gpu", set(), 60.0, "cpu", "move-to-cpu"),
    ("gpu", set(), 60.0, "fail", "fail"),
    ("gpu", {"gpu"}, 600.0, "cpu", "wait"),  # a gpu worker is live: its tasks will be taken
    ("cpu", set(), 60.0, "cpu", "fail"),  # nothing to move a cpu job to
    ("cpu", {"cpu"}, 600.0, "fail", "wait"),
])
def test_a_job_no_worker_serves_waits_then_moves_to_cpu_or_fails(machine: str, live: set[str], waited: float,
                                                                 policy: str, action: str) -> None:
    assert unserved(machine, live, waited, 60.0, policy) == action  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(JobState))
def test_only_failed_and_aborted_jobs_restart(state: JobState) -> None:
    assert restartable(state) == (state in (JobState.FAILED, JobState.ABORTED))
