"""What the block does: ``worker_svc.workflows.imaging.convert_grayscale``."""

from worker_svc.workflows.imaging import convert_grayscale as run

__all__ = ["run"]
