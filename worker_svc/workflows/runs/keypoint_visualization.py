"""What the block does: ``worker_svc.workflows.visualizations.keypoint_visualization``."""

from worker_svc.workflows.visualizations import keypoint_visualization as run

__all__ = ["run"]
