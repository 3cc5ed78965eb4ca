"""Video frames with FPS sub-sampling: at most ``max_fps`` frames per second of video are processed.

Skipped frames are only grabbed (not decoded into pixels), which is much cheaper than reading them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import cv2
import numpy as np


class _Sampler:
    def __init__(self, path: str, max_fps: float | None) -> None:
        self.capture = cv2.VideoCapture(path)
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else 25.0
        self.step = self.fps / max_fps if max_fps and max_fps < self.fps else 1.0
        self.index = -1
        self.next_take = 0.0

    def next(self) -> tuple[int, float, np.ndarray] | None:
        while True:
            if not self.capture.grab():
                return None
            self.index += 1
            if self.index + 1e-9 >= self.next_take:
                self.next_take += self.step
                ok, frame = self.capture.retrieve()
                if ok and frame is not None:
                    return self.index, round(self.index / self.fps, 4), frame

    def close(self) -> None:
        self.capture.release()


async def sampled_frames(path: str, max_fps: float | None) -> AsyncIterator[tuple[int, float, np.ndarray]]:
    """(frame number, timestamp in seconds, BGR frame) for the frames kept by the sampling."""
    sampler = await asyncio.to_thread(_Sampler, path, max_fps)
    try:
        while (item := await asyncio.to_thread(sampler.next)) is not None:
            yield item
    finally:
        sampler.close()
