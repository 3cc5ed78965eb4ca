"""The scheduler's decisions on plain inputs: what becomes of a task's attempt, what a job does next after one,
how many tasks it may dispatch, when it has run out of time, and what happens to a job no worker serves.
``scheduler_svc.service`` reads the facts from the database, asks here, and writes the answer; the unit tests ask
here directly (``tests/unit/scheduler/test_decisions.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.events import JobState, TaskStatus

# the states of a task's row (the tasks table): queued once dispatched, running once a worker started it
TaskRow = Literal["pending", "queued", "running", "succeeded", "failed", "aborted"]
ENDED: tuple[TaskRow, ...] = ("succeeded", "failed", "aborted")


def task_row_after(status: TaskStatus, attempt: int, max_attempts: int) -> TaskRow:
    """The row of a task whose attempt ``attempt`` ended with ``status``: a failed attempt below the limit goes
    back to ``pending`` (dispatched again as the next attempt); the last one fails the task."""
    if status == TaskStatus.SUCCEEDED:
        return "succeeded"
    if status == TaskStatus.FAILED:
        return "pending" if attempt < max_attempts else "failed"
    return "aborted"


@dataclass(frozen=True)
class Progress:
    """A job's processing stage after a task ended."""

    runtime_s: float  # the cumulative runtime of every worker, this attempt's included
    timeout_s: float
    files_total: int
    files_processed: int
    files_failed: int
    max_failure_rate: float | None
    tasks: dict[str, int]  # task rows by state
    sample: bool = False  # an estimate's sample job: its figures are the answer, whatever failed


@dataclass(frozen=True)
class Next:
    action: Literal["fail", "export", "dispatch", "succeed"]
    reason: str | None = None


def limit_passed(p: Progress) -> str | None:
    """Why the job fails now, having passed its timeout or its failure rate, or None."""
    if timed_out(p.runtime_s, 0.0, p.timeout_s):  # the attempt that just ended is in runtime_s already
        return timeout_reason(p.timeout_s)
    # failed / total only grows: once above the limit, the job can no longer succeed
    if p.max_failure_rate is not None and p.files_total and p.files_failed / p.files_total > p.max_failure_rate:
        return (f"{p.files_failed} of {p.files_processed + p.files_failed} files failed, above maxImageFailureRate "
                f"{p.max_failure_rate}")
    return None


def after_task(p: Progress) -> Next:
    """What a job within its limits (``limit_passed``) does once one of its processing tasks has ended (and not
    failed the job by itself)."""
    all_succeeded = p.tasks.get("succeeded", 0) == sum(p.tasks.values())
    if p.sample:
        return Next("succeed") if all_succeeded else Next("dispatch")
    if not all_succeeded:
        return Next("dispatch")
    if p.files_processed == 0 and p.files_failed > 0:  # whatever maxImageFailureRate says, nothing came out
        return Next("fail", f"every file failed ({p.files_failed} of {p.files_failed}); see the job's files-failed "
                            "logs for each file's reason")
    return Next("export")


def timeout_reason(timeout_s: float) -> str:
    return (f"processing timeout exceeded: the cumulative runtime of all workers passed "
            f"processingTimeoutSeconds={timeout_s:g}")


def timed_out(runtime_s: float, running_elapsed_s: float, timeout_s: float) -> bool:
    """Whether finished work plus the time running tasks have run so far passed the job's timeout."""
    return runtime_s + running_elapsed_s > timeout_s


def free_slots(max_parallel_tasks: int, tasks: dict[str, int]) -> int:
    """How many more tasks a job may have on the topics and on workers at once."""
    return max(0, max_parallel_tasks - tasks.get("queued", 0) - tasks.get("running", 0))


def unserved(machine_type: str, live: set[str], waited_s: float, queue_wait_s: float,
             policy: Literal["cpu", "fail"]) -> Literal["wait", "move-to-cpu", "fail"]:
    """What becomes of a job whose queued tasks have waited ``waited_s`` for a worker of its machine type."""
    if waited_s < queue_wait_s or machine_type in live:
        return "wait"
    return "move-to-cpu" if machine_type == "gpu" and policy == "cpu" else "fail"


def restartable(state: JobState) -> bool:
    return state in (JobState.FAILED, JobState.ABORTED)
