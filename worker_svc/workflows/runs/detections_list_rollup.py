"""What the block does: ``worker_svc.workflows.rollup.detections_list_rollup``."""

from worker_svc.workflows.rollup import detections_list_rollup as run

__all__ = ["run"]
