"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_memory.rate_limiter``."""

from worker_svc.workflows.video_memory import rate_limiter as stateful

__all__ = ["stateful"]
