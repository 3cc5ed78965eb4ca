"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_memory.track_class_lock``."""

from worker_svc.workflows.video_memory import track_class_lock as stateful

__all__ = ["stateful"]
