"""What the block does, frame by frame of a video: ``worker_svc.workflows.video_blocks.stabilize_detections``."""

from worker_svc.workflows.video_blocks import stabilize_detections as stateful

__all__ = ["stateful"]
