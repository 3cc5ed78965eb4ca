"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_memory.frame_delay``."""

from worker_svc.workflows.video_memory import frame_delay as stateful

__all__ = ["stateful"]
