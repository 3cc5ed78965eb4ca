"""What the block does: ``worker_svc.workflows.visualizations.model_comparison_visualization``."""

from worker_svc.workflows.visualizations import model_comparison_visualization as run

__all__ = ["run"]
