"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_blocks.line_counter``."""

from worker_svc.workflows.video_blocks import line_counter as stateful

__all__ = ["stateful"]
