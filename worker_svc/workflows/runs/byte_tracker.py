"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_blocks.byte_tracker``."""

from worker_svc.workflows.video_blocks import byte_tracker as stateful

__all__ = ["stateful"]
