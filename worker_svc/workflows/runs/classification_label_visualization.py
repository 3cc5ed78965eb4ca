"""What the block does: ``worker_svc.workflows.visualizations.classification_label_visualization``."""

from worker_svc.workflows.visualizations import classification_label_visualization as run

__all__ = ["run"]
