"""The accuracy gate: a faster runtime or precision is used only where it finds what the reference finds.

The reference is onnxruntime in fp32. Each candidate (OpenVINO in bf16, say) runs the same images; a detector
passes when at least 97 % of the reference's detections (confidence >= 0.25) are matched by one of the
candidate's of the same class at IoU >= 0.9, and 97 % of the candidate's by the reference's; a classifier when
its predicted classes agree as often. Of those that pass, the fastest on these images is chosen. The images are
a sample of the user's own task (real inputs, not a stock set), and too few reference findings decide nothing:
the model stays on the reference and the next task's images are tried.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from worker_svc.inference.runtimes import Execution, reference
from worker_svc.inference.session_model import SessionModel

PASS_SHARE = 0.97
MIN_FINDINGS = 20  # fewer reference detections than this in the sample decide nothing


@dataclass(frozen=True)
class Trial:
    execution: Execution
    matched: float  # share of the reference's findings the candidate has too
    matched_back: float  # share of the candidate's findings the reference has too
    images_per_s: float

    @property
    def passed(self) -> bool:
        return self.matched >= PASS_SHARE and self.matched_back >= PASS_SHARE

    def as_dict(self) -> dict[str, Any]:
        return {**self.execution.as_dict(), "matched": round(self.matched, 4),
                "matched_back": round(self.matched_back, 4), "images_per_s": round(self.images_per_s, 1),
                "passed": self.passed}


@dataclass(frozen=True)
class Verdict:
    chosen: Execution
    images: int
    reference_findings: int
    trials: list[Trial]  # the reference first

    def as_dict(self) -> dict[str, Any]:
        return {"chosen": self.chosen.as_dict(), "images": self.images,
                "reference_findings": self.reference_findings, "trials": [t.as_dict() for t in self.trials]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        trials = [Trial(Execution(t["runtime"], t["precision"], t["device"]), t["matched"], t["matched_back"],
                        t["images_per_s"]) for t in data["trials"]]
        return cls(Execution(**data["chosen"]), data["images"], data["reference_findings"], trials)


def _timed(model: SessionModel, images: list[np.ndarray], session: Any) -> tuple[list[Any], float]:
    model.gate_outputs(images[:1], session)  # a session's first run allocates its buffers: not timed
    started = time.perf_counter()
    found = model.gate_outputs(images, session)
    return found, len(images) / max(time.perf_counter() - started, 1e-9)


def judge(model: SessionModel, candidates: list[Execution], images: list[np.ndarray],
          min_findings: int = MIN_FINDINGS) -> Verdict | None:
    """Each candidate against the reference on ``images``; None when the reference finds too little in them."""
    ref = reference(model.execution.device)
    ref_found, ref_speed = _timed(model, images, model.open_session(ref))
    findings = model.agreement(ref_found, ref_found)[2]
    if not images or findings < min_findings:
        return None
    trials = [Trial(ref, 1.0, 1.0, ref_speed)]
    for candidate in candidates:
        if candidate == ref:
            continue
        found, speed = _timed(model, images, model.open_session(candidate))
        matched, matched_back, _ = model.agreement(ref_found, found)
        trials.append(Trial(candidate, matched, matched_back, speed))
    eligible = [t for t in trials if t.passed and t.execution in candidates]
    # the reference is measured always, chosen only where the settings allow it (WORKER_RUNTIME=openvino
    # does not); where nothing passes, the most precise candidate (they are ordered fastest first)
    chosen = max(eligible, key=lambda t: t.images_per_s).execution if eligible else candidates[-1]
    return Verdict(chosen, len(images), findings, trials)


class Verdicts:
    """Verdicts kept on disk per (model sha256, device), valid for the machine, runtime versions and candidates
    they were reached with: a restarted worker does not run the gate again."""

    def __init__(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        self.folder = folder
        self.fingerprint = fingerprint

    def _path(self, sha256: str, device: str) -> Path:
        return self.folder / f"{sha256}-{device}.json"

    def get(self, sha256: str, device: str) -> Verdict | None:
        try:
            data = json.loads(self._path(sha256, device).read_text())
        except (OSError, ValueError):
            return None
        if data.get("fingerprint") != self.fingerprint:
            return None
        try:
            return Verdict.from_dict(data["verdict"])
        except (KeyError, TypeError):
            return None

    def put(self, sha256: str, device: str, verdict: Verdict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(sha256, device)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "verdict": verdict.as_dict()}, indent=1))
        tmp.replace(path)
