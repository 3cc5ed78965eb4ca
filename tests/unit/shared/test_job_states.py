"""The job states and task outcomes the code names are exactly those the public events carry: an enum member the
event refuses, or an event value no member names, cannot be written."""

from typing import get_args

from shared.events import JobState, JobStateChangedV1, TaskDoneV1, TaskStatus


def test_the_job_states_are_the_state_changed_event_s() -> None:
    assert {s.value for s in JobState} == set(get_args(JobStateChangedV1.model_fields["state"].annotation))
    assert {s for s in JobState if s.terminal} == {JobState.SUCCEEDED, JobState.FAILED, JobState.ABORTED}


def test_the_task_outcomes_are_the_task_done_event_s() -> None:
    assert {s.value for s in TaskStatus} == set(get_args(TaskDoneV1.model_fields["status"].annotation))


def test_an_event_made_with_a_member_carries_its_plain_value() -> None:
    event = JobStateChangedV1(workspace_id="w", job_id="j", state=JobState.EXPORTING)
    assert '"state":"exporting"' in event.model_dump_json()
