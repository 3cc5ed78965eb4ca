"""What the block does: ``worker_svc.workflows.classical.contrast_enhancement``."""

from worker_svc.workflows.classical import contrast_enhancement as run

__all__ = ["run"]
