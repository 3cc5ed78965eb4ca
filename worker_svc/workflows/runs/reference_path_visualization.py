"""What the block does: ``worker_svc.workflows.visualizations.reference_path_visualization``."""

from worker_svc.workflows.visualizations import reference_path_visualization as run

__all__ = ["run"]
