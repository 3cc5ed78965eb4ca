"""What a job would take, predicted from a small real job (an estimate's sample) run on the same workers.

The sample is a few tasks spread evenly over the batch, of two sizes (a few images and four times as many, or the
first seconds of a video and three times as many): a task's runtime is a fixed part (fetching the task, opening a
video, the first call of a cold model) and a part per image or per second of video, and two sizes tell the two
apart (least squares). The whole job's cumulative runtime is then the fixed part once per task it would be split
into plus the marginal part per image (or second of video) of the whole batch. Each figure comes with a 95 %
interval: from the fit's residuals (Student's t), from Wilson's interval for the failure rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

IMAGE_SIZES = (2, 8)  # files of the sample's tasks, alternately
VIDEO_SECONDS = (2.0, 6.0)  # seconds run of each sampled video, alternately
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


@dataclass(frozen=True)
class SampleTask:
    """One planned task of the sample: where it starts in the batch (0-based, in file order) and how much of it
    runs (images: its files; videos: one video, of which ``seconds`` run)."""

    position: int
    files: int
    seconds: float | None = None


def sample_plan(kind: str, files: int, tasks: int) -> list[SampleTask]:
    """Up to ``tasks`` sample tasks spread evenly over a batch of ``files``: images take the sizes of
    ``IMAGE_SIZES`` in turn (the whole batch when it is no larger than the sample); each video is one task."""
    if files <= 0 or tasks <= 0:
        return []
    if kind == "videos":
        count = min(tasks, files)
        return [SampleTask(position=_spread(i, count, files), files=1, seconds=VIDEO_SECONDS[i % 2])
                for i in range(count)]
    sizes = [IMAGE_SIZES[i % 2] for i in range(tasks)]
    if sum(sizes) >= files:  # the sample would be the batch: run the batch, in tasks of the same sizes
        plan, start = [], 0
        for size in sizes * files:
            if start >= files:
                break
            plan.append(SampleTask(position=start, files=min(size, files - start)))
            start += size
        return plan
    gap = (files - sum(sizes)) / tasks  # files left out before each task (half of it before the first)
    return [SampleTask(position=sum(sizes[:i]) + int(gap * (i + 0.5)), files=size) for i, size in enumerate(sizes)]


def _spread(i: int, count: int, files: int) -> int:
    return min(int((i + 0.5) * files / count), files - 1)


@dataclass(frozen=True)
class SampleResult:
    """How one task of the sample ran (the tasks table's row)."""

    units: float  # images it ran, or seconds of video
    runtime_s: float
    processed: int
    failed: int
    output_bytes: int
    input_bytes: int  # of its files
    media_seconds: float = 0.0  # videos: the seconds its files hold


@dataclass(frozen=True)
class Job:
    """The job the estimate is for, as it would be planned."""

    kind: str
    files: int
    input_bytes: int
    tasks: int
    parallel: int  # tasks at once: the fewest of its maxParallelTasks, the workers that ran the sample, its tasks


@dataclass(frozen=True)
class Figure:
    value: float
    low: float | None  # None: too few sample tasks to tell the spread
    high: float | None

    def scaled(self, factor: float) -> Figure:
        return Figure(self.value * factor, _times(self.low, factor), _times(self.high, factor))

    def as_json(self, digits: int = 4) -> dict[str, float | None]:
        return {"value": round(self.value, digits), "low": _round(self.low, digits), "high": _round(self.high, digits)}


def _times(x: float | None, factor: float) -> float | None:
    return None if x is None else x * factor


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


@dataclass(frozen=True)
class Prediction:
    units: float  # images, or seconds of video, of the whole batch
    runtime_s: Figure  # cumulative runtime of every task: what processingTimeoutSeconds counts and is billed
    wall_s: Figure  # the processing stage from its first task to its last
    failure_rate: Figure
    output_bytes: Figure

    def recommended_timeout_s(self) -> int:
        """The cumulative runtime's upper bound with a quarter more, in whole minutes, at least one."""
        top = self.runtime_s.high if self.runtime_s.high is not None else self.runtime_s.value * 2
        return max(60, math.ceil(top * 1.25 / 60) * 60)


def predict(job: Job, sample: list[SampleResult]) -> Prediction:
    if not sample:
        raise ValueError("an estimate needs at least one task of its sample to have run")
    units = _batch_units(job, sample)
    runtime = _fit([(s.units, s.runtime_s) for s in sample], job.tasks, units)
    # the tasks run in waves of ``parallel`` at a time, each wave as long as the mean task
    waves = math.ceil(job.tasks / max(job.parallel, 1))
    return Prediction(units=units, runtime_s=runtime, wall_s=runtime.scaled(waves / job.tasks),
                      failure_rate=_failure_rate(sample),
                      output_bytes=_ratio_total([(s.units, s.output_bytes) for s in sample], units))


def _batch_units(job: Job, sample: list[SampleResult]) -> float:
    """Images of the batch; for videos its seconds: those of the sampled videos, and for the rest their bytes at
    the sampled videos' seconds per byte."""
    if job.kind != "videos":
        return float(job.files)
    known = sum(s.media_seconds for s in sample)
    sampled_bytes = sum(s.input_bytes for s in sample)
    if len(sample) >= job.files or not sampled_bytes:
        return known
    return known + (job.input_bytes - sampled_bytes) * known / sampled_bytes


def _fit(points: list[tuple[float, float]], tasks: int, units: float) -> Figure:
    """``fixed * tasks + per_unit * units`` where ``runtime = fixed + per_unit * units`` is fitted to the
    sample's tasks by least squares, with its 95 % interval; through the origin where the sample has one size
    only, fewer than three tasks, or the fit gives a part below zero."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx > 1e-12 and n >= 3:
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
        fixed = mean_y - slope * mean_x
        if fixed >= 0 and slope > 0:
            value = fixed * tasks + slope * units
            residual = sum((y - fixed - slope * x) ** 2 for x, y in points) / (n - 2)
            # var(a*T + b*U) of the OLS estimates a, b: sigma^2 * (T^2/n + (U - T*mean_x)^2 / sxx)
            half = _t95(n - 2) * math.sqrt(residual * (tasks ** 2 / n + (units - tasks * mean_x) ** 2 / sxx))
            return Figure(value, max(value - half, 0.0), value + half)
    return _ratio_total(points, units)


def _ratio_total(points: list[tuple[float, float]], units: float) -> Figure:
    """``units`` at the sample's mean amount per unit; the interval from the spread of the tasks' own ratios."""
    total_x = sum(x for x, _ in points)
    rate = sum(y for _, y in points) / total_x if total_x else 0.0
    value = rate * units
    ratios = [y / x for x, y in points if x]
    if len(ratios) < 3:
        return Figure(value, None, None)
    mean = sum(ratios) / len(ratios)
    sd = math.sqrt(sum((r - mean) ** 2 for r in ratios) / (len(ratios) - 1))
    half = _t95(len(ratios) - 1) * sd / math.sqrt(len(ratios)) * units
    return Figure(value, max(value - half, 0.0), value + half)


def _failure_rate(sample: list[SampleResult]) -> Figure:
    """Failed files of the sample's files, with Wilson's 95 % interval."""
    failed = sum(s.failed for s in sample)
    n = failed + sum(s.processed for s in sample)
    if n == 0:
        return Figure(0.0, None, None)
    p, z = failed / n, NormalDist().inv_cdf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Figure(p, max(centre - half, 0.0), min(centre + half, 1.0))


def _t95(df: int) -> float:
    """Student's t, two-sided 95 %, for ``df`` degrees of freedom (the next smaller tabled df: wider, not
    narrower)."""
    if df > 30:
        return NormalDist().inv_cdf(0.975)
    return _T95[max(k for k in _T95 if k <= df)]
