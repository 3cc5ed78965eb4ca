"""What the block does, frame by frame of a video: ``worker_svc.workflows.motion.motion_detection``."""

from worker_svc.workflows.motion import motion_detection as stateful

__all__ = ["stateful"]
