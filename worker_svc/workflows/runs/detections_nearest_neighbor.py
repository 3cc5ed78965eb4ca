"""What the block does: ``worker_svc.workflows.fusion.detections_nearest_neighbor``."""

from worker_svc.workflows.fusion import detections_nearest_neighbor as run

__all__ = ["run"]
