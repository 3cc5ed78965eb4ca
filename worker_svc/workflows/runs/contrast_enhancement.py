"""What Roboflow's ``roboflow_core/contrast_enhancement@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import numpy as np

from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Each channel stretched to 0..255 between its ``clip_limit`` percentiles, scaled about mid-grey by
    ``contrast_multiplier``, and with ``normalize_brightness`` brightened in the midtones (gamma 1 / 1.3)."""
    image: Image = p["image"]
    clip = float(p["clip_limit"]) / 100.0
    gain, gamma = float(p["contrast_multiplier"]), (1.0 / 1.3 if p["normalize_brightness"] else 1.0)
    out = np.empty(image.array.shape, np.float32)
    for c in range(image.array.shape[2]):
        channel = image.array[:, :, c].astype(np.float32)
        low, high = np.quantile(channel, [clip, 1 - clip]) if clip > 0 else (channel.min(), channel.max())
        if high <= low:
            out[:, :, c] = channel
            continue
        stretched = (channel - low) / (high - low) * 255.0
        if gain != 1.0:
            stretched = 128.0 + (stretched - 128.0) * gain
        if gamma != 1.0:
            stretched = np.power(np.clip(stretched, 0, 255) / 255.0, gamma) * 255.0
        out[:, :, c] = np.clip(stretched, 0, 255)
    return {"image": image.redrawn(out.astype(np.uint8))}
