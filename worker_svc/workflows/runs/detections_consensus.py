"""What the block does: ``worker_svc.workflows.consensus.detections_consensus``."""

from worker_svc.workflows.consensus import detections_consensus as run

__all__ = ["run"]
