"""What the block does: ``worker_svc.workflows.classical.image_blur``."""

from worker_svc.workflows.classical import image_blur as run

__all__ = ["run"]
