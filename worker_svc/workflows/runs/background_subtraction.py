"""What the block does, frame by frame of a video: ``worker_svc.workflows.motion.background_subtraction``."""

from worker_svc.workflows.motion import background_subtraction as stateful

__all__ = ["stateful"]
