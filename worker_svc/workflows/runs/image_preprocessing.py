"""What the block does: ``worker_svc.workflows.imaging.image_preprocessing``."""

from worker_svc.workflows.imaging import image_preprocessing as run

__all__ = ["run"]
