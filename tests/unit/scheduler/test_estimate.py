"""The estimate's arithmetic on plain inputs: which files the sample runs, and what it predicts from them."""

import itertools

import pytest

from scheduler_svc.config import SchedulerSettings
from scheduler_svc.estimate import Job, SampleResult, SampleTask, predict, sample_plan
from scheduler_svc.estimates import planned_tasks


def _ranges(plan: list[SampleTask]) -> list[tuple[int, int]]:
    return [(t.position, t.position + t.files - 1) for t in plan]


@pytest.mark.parametrize("files", [31, 100, 1_000_000])
def test_a_sample_spreads_two_task_sizes_over_the_batch_without_overlap(files: int) -> None:
    plan = sample_plan("images", files, 6)
    assert [t.files for t in plan] == [2, 8, 2, 8, 2, 8]
    ranges = _ranges(plan)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(ranges))
    assert ranges[0][0] >= 0 and ranges[-1][1] < files
    if files >= 1000:  # spread: the last task lies in the batch's last sixth, the first in its first
        assert ranges[0][1] < files / 6 and ranges[-1][0] > files * 5 / 6


@pytest.mark.parametrize(("files", "sizes"), [(1, [1]), (3, [2, 1]), (10, [2, 8]), (29, [2, 8, 2, 8, 2, 7]),
                                              (30, [2, 8, 2, 8, 2, 8])])
def test_a_batch_no_larger_than_the_sample_is_run_whole(files: int, sizes: list[int]) -> None:
    plan = sample_plan("images", files, 6)
    assert [t.files for t in plan] == sizes
    assert [i for a, b in _ranges(plan) for i in range(a, b + 1)] == list(range(files))


def test_each_sampled_video_runs_two_or_six_seconds() -> None:
    assert [(t.position, t.seconds) for t in sample_plan("videos", 3, 6)] == [(0, 2.0), (1, 6.0), (2, 2.0)]
    plan = sample_plan("videos", 100, 4)
    assert [t.position for t in plan] == [12, 37, 62, 87] and {t.files for t in plan} == {1}
    assert sample_plan("videos", 0, 4) == [] and sample_plan("images", 5, 0) == []


def _task(files: int, runtime: float, failed: int = 0, output: int = 0) -> SampleResult:
    return SampleResult(units=files, runtime_s=runtime, processed=files - failed, failed=failed,
                        output_bytes=output, input_bytes=files * 1000)


def test_the_fixed_and_per_file_parts_are_told_apart() -> None:
    # every task: 0.5 s fixed + 0.1 s per file; the whole job: 20 tasks of 64 files
    sample = [_task(n, 0.5 + 0.1 * n, output=100 * n) for n in (2, 8, 2, 8, 2, 8)]
    p = predict(Job("images", files=1280, input_bytes=0, tasks=20, parallel=4), sample)
    assert p.runtime_s.value == pytest.approx(20 * 0.5 + 1280 * 0.1)
    assert p.runtime_s.low == pytest.approx(p.runtime_s.value) == pytest.approx(p.runtime_s.high)  # a perfect fit
    assert p.wall_s.value == pytest.approx(p.runtime_s.value * 5 / 20)  # five waves of four tasks
    assert p.output_bytes.value == pytest.approx(128_000)
    assert p.failure_rate.value == 0 and p.failure_rate.high is not None and 0 < p.failure_rate.high < 0.2


def test_noise_widens_the_interval_around_the_fit() -> None:
    sample = [_task(n, (0.5 + 0.1 * n) * k) for n, k in ((2, 1.1), (8, 0.95), (2, 0.9), (8, 1.05), (2, 1.0),
                                                           (8, 1.0))]
    p = predict(Job("images", files=1280, input_bytes=0, tasks=20, parallel=20), sample)
    assert p.runtime_s.low is not None and p.runtime_s.high is not None
    assert p.runtime_s.low < 138 < p.runtime_s.high and p.runtime_s.high - p.runtime_s.low < 138
    assert p.recommended_timeout_s() % 60 == 0 and p.recommended_timeout_s() >= p.runtime_s.high * 1.25


def test_one_task_size_or_too_few_tasks_fall_back_to_a_rate_through_zero() -> None:
    same = predict(Job("images", files=100, input_bytes=0, tasks=10, parallel=1), [_task(4, 2.0)] * 3)
    assert same.runtime_s.value == pytest.approx(50.0) and same.runtime_s.low == pytest.approx(50.0)
    two = predict(Job("images", files=100, input_bytes=0, tasks=10, parallel=1), [_task(2, 1.0), _task(8, 3.0)])
    assert two.runtime_s.value == pytest.approx(40.0) and two.runtime_s.low is None and two.runtime_s.high is None
    with pytest.raises(ValueError, match="at least one task"):
        predict(Job("images", files=1, input_bytes=0, tasks=1, parallel=1), [])


def test_the_failure_rate_has_wilsons_interval() -> None:
    p = predict(Job("images", files=10, input_bytes=0, tasks=5, parallel=1), [_task(10, 1.0, failed=4)])
    assert p.failure_rate.value == 0.4
    assert p.failure_rate.low == pytest.approx(0.1682, abs=1e-3) and p.failure_rate.high == pytest.approx(0.6873,
                                                                                                         abs=1e-3)


def test_video_seconds_of_unsampled_videos_come_from_their_bytes() -> None:
    sampled = [SampleResult(units=2.0, runtime_s=1.0, processed=1, failed=0, output_bytes=10, input_bytes=1_000,
                            media_seconds=10.0),
               SampleResult(units=6.0, runtime_s=2.0, processed=1, failed=0, output_bytes=30, input_bytes=3_000,
                            media_seconds=30.0)]
    # 40 s in 4,000 bytes sampled; the batch holds 10,000 bytes: 100 s
    p = predict(Job("videos", files=5, input_bytes=10_000, tasks=5, parallel=5), sampled)
    assert p.units == pytest.approx(100.0)
    whole = predict(Job("videos", files=2, input_bytes=4_000, tasks=2, parallel=2), sampled)
    assert whole.units == pytest.approx(40.0)  # every video sampled: their own lengths


@pytest.mark.parametrize(("kind", "files", "tasks"), [("images", 64, 1), ("images", 65, 2), ("images", 64_000, 1000),
                                                      ("images", 64_001, 1000), ("videos", 7, 7)])
def test_the_whole_job_is_planned_as_the_scheduler_plans_it(kind: str, files: int, tasks: int) -> None:
    settings = SchedulerSettings(images_per_task=64, max_tasks_per_stage=1000)
    assert planned_tasks(files, *settings.task_size(kind)) == tasks
