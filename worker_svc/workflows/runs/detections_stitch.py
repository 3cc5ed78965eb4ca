"""What the block does: ``worker_svc.workflows.sahi.detections_stitch``."""

from worker_svc.workflows.sahi import detections_stitch as run

__all__ = ["run"]
