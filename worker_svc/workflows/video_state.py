"""What stateful blocks know of the frame they run on, and the state they keep per video.

A video's frames run in order within one task; ``VideoState`` is created per video and dropped with it, so a
tracker never carries objects from one video into the next. A still image is a video of one frame (Roboflow's
engine gives it the image's id as the video's and 30 fps), so stateful blocks run on images too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class VideoMetadata:
    """Roboflow's ``VideoMetadata`` of one frame (``frame_timestamp`` in seconds from the video's start)."""

    video_identifier: str
    frame_number: int
    frame_timestamp: float
    fps: float
    comes_from_video_file: bool | None = None
    # the rate frames reach the blocks at (below ``fps`` when the job sub-samples): trackers count in frames
    processed_fps: float | None = None

    def serialize(self) -> dict[str, Any]:
        return {"video_identifier": self.video_identifier, "frame_number": self.frame_number,
                "frame_timestamp": self.frame_timestamp, "fps": self.fps,
                "comes_from_video_file": self.comes_from_video_file}

    @property
    def seconds(self) -> float:
        """Time of the frame in the video: by frame number for files, as Roboflow's time-in-zone measures it."""
        if self.comes_from_video_file and self.fps:
            return self.frame_number / self.fps
        return self.frame_timestamp


@dataclass
class VideoState:
    """The state of every stateful step for one video, by step name."""

    video_identifier: str
    fps: float
    processed_fps: float | None = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    # tells this processing of the video from any other (a restarted task's): Roboflow's engine keys its
    # block state by the video identifier, in a process that outlives one task
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def frame(self, number: int, timestamp: float) -> VideoFrame:
        metadata = VideoMetadata(self.video_identifier, number, timestamp, self.fps, True, self.processed_fps)
        return VideoFrame(metadata, self)


@dataclass(frozen=True)
class VideoFrame:
    metadata: VideoMetadata
    state: VideoState

    def of_step(self, step: str) -> dict[str, Any]:
        return self.state.steps.setdefault(step, {})

    def engine_metadata(self) -> dict[str, Any]:
        """As Roboflow's engine takes a ``VideoMetadata`` (its timestamp a time of day: the video's start at 0)."""
        m = self.metadata
        return {"video_identifier": f"{m.video_identifier}#{self.state.run_id}", "frame_number": m.frame_number,
                "frame_timestamp": datetime.fromtimestamp(m.frame_timestamp, UTC).isoformat(), "fps": m.fps,
                "comes_from_video_file": m.comes_from_video_file}


def still_image(parent_id: str) -> VideoFrame:
    """A still image as the only frame of its own video."""
    return VideoState(parent_id, 30.0).frame(0, 0.0)
