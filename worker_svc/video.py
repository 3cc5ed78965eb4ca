"""Video frames with FPS sub-sampling: at most ``max_fps`` frames per second of video are processed.

Skipped frames are only grabbed (not decoded into pixels), which is much cheaper than reading them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Frame:
    number: int  # in the video, counting every frame
    timestamp: float  # seconds from the start
    pixels: np.ndarray  # BGR
    fps: float  # the video's
    processed_fps: float  # the rate frames are kept at (the video's, or the job's max_fps below it)
    duration: float  # seconds the whole video lasts, from its container; 0: the container does not say


class _Sampler:
    def __init__(self, path: str, max_fps: float | None) -> None:
        self.capture = cv2.VideoCapture(path)
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else 25.0
        self.step = self.fps / max_fps if max_fps and max_fps < self.fps else 1.0
        self.processed_fps = self.fps / self.step
        count = self.capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.duration = round(count / self.fps, 4) if count and count > 0 else 0.0
        self.index = -1
        self.next_take = 0.0

    def next(self) -> Frame | None:
        while True:
            if not self.capture.grab():
                return None
            self.index += 1
            if self.index + 1e-9 >= self.next_take:
                self.next_take += self.step
                ok, frame = self.capture.retrieve()
                if ok and frame is not None:
                    return Frame(self.index, round(self.index / self.fps, 4), frame, self.fps, self.processed_fps,
                                 self.duration)

    def close(self) -> None:
        self.capture.release()


async def sampled_frames(path: str, max_fps: float | None) -> AsyncGenerator[Frame, None]:
    """The frames kept by the sampling, in order."""
    sampler = await asyncio.to_thread(_Sampler, path, max_fps)
    try:
        while (item := await asyncio.to_thread(sampler.next)) is not None:
            yield item
    finally:
        sampler.close()
