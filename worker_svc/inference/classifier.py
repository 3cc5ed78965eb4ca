"""Image classification with onnxruntime: input [N, 3, S, S] RGB in 0..1, output [N, C] scores or logits.

Single-label: the scores are a distribution (softmax of logits); multi-label: each class is predicted on its
own (sigmoid of logits), and every class at or above the confidence is predicted. Results are shaped as
Roboflow's classification and multi-label classification outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from worker_svc.inference.runtimes import Execution, Session
from worker_svc.inference.session_model import SessionModel


class OnnxClassifier(SessionModel):
    def __init__(self, model_path: Path, class_names: list[str], *, input_size: int | None = None,
                 threads: int | None = None, prefer_gpu: bool = True, spin: bool = True,
                 multi_label: bool = False, execution: Execution | None = None, cache_dir: Path | None = None,
                 sha256: str = "") -> None:
        self._open(model_path, threads, prefer_gpu, spin, execution, cache_dir, sha256)
        self.multi_label = multi_label
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        fixed = inp.shape[2] if isinstance(inp.shape[2], int) else None
        self.input_size = int(input_size or fixed or 224)
        self.class_names = class_names

    def infer(self, batch: np.ndarray, session: Session | None = None) -> tuple[np.ndarray]:
        (scores,) = (session or self.session).run(None, {self.input_name: batch})
        return (np.asarray(scores),)

    def preprocess(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        s = self.input_size
        batch = np.stack([cv2.resize(img, (s, s))[:, :, ::-1].transpose(2, 0, 1) for img in images_bgr])
        return batch.astype(np.float32) / 255.0

    def classify(self, images_bgr: list[np.ndarray], *, confidence: float = 0.0) -> list[dict[str, Any]]:
        if not images_bgr:
            return []
        (scores,) = self.run_batch(self.preprocess(images_bgr))
        scores = np.asarray(scores, np.float64).reshape(len(images_bgr), -1)
        return [self._multi_label(img, row, confidence) if self.multi_label else self._single(img, row, confidence)
                for img, row in zip(images_bgr, scores, strict=True)]

    def gate_outputs(self, images_bgr: list[np.ndarray], session: Session) -> list[Any]:
        """Each image's predicted classes: the top one (single-label) or those scored 0.5 or more (multi-label)."""
        found = []
        for image in images_bgr:
            (scores,) = self.infer(self.preprocess([image]), session=session)
            row = np.asarray(scores, np.float64).reshape(-1)
            result = self._multi_label(image, row, 0.5) if self.multi_label else self._single(image, row, 0.0)
            found.append(set(result["predicted_classes"]) if self.multi_label else {result["top"]})
        return found

    def agreement(self, reference: list[Any], candidate: list[Any]) -> tuple[float, float, int]:
        """The share of the reference's predicted classes the candidate predicts too, the reverse, and how many
        the reference predicted."""
        both = sum(len(r & c) for r, c in zip(reference, candidate, strict=True))
        ours, theirs = sum(map(len, reference)), sum(map(len, candidate))
        return (both / ours if ours else 1.0), (both / theirs if theirs else 1.0), ours

    def _single(self, img: np.ndarray, row: np.ndarray, confidence: float) -> dict[str, Any]:
        if not (np.all(row >= 0) and abs(row.sum() - 1.0) < 1e-3):
            row = np.exp(row - row.max())
            row = row / row.sum()
        order = np.argsort(row)[::-1]
        preds = [{"class": self._name(i), "class_id": int(i), "confidence": round(float(row[i]), 4)}
                 for i in order if row[i] >= confidence]
        top = int(order[0])
        return {"image": {"width": int(img.shape[1]), "height": int(img.shape[0])}, "predictions": preds,
                "top": self._name(top), "confidence": round(float(row[top]), 4),
                "prediction_type": "classification"}

    def _multi_label(self, img: np.ndarray, row: np.ndarray, confidence: float) -> dict[str, Any]:
        if not np.all((row >= 0) & (row <= 1)):
            row = 1.0 / (1.0 + np.exp(-row))
        preds = {self._name(i): {"confidence": round(float(row[i]), 4), "class_id": int(i)} for i in range(len(row))}
        return {"image": {"width": int(img.shape[1]), "height": int(img.shape[0])}, "predictions": preds,
                "predicted_classes": [self._name(i) for i in range(len(row)) if row[i] >= confidence],
                "prediction_type": "classification"}

    def _name(self, i: int) -> str:
        return self.class_names[i] if i < len(self.class_names) else str(i)
