"""What the block does: ``worker_svc.workflows.classical.contours_detection``."""

from worker_svc.workflows.classical import contours_detection as run

__all__ = ["run"]
