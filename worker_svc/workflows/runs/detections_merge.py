"""What the block does: ``worker_svc.workflows.classical.detections_merge``."""

from worker_svc.workflows.classical import detections_merge as run

__all__ = ["run"]
