"""What the block does: ``worker_svc.workflows.imaging.dominant_color``."""

from worker_svc.workflows.imaging import dominant_color as run

__all__ = ["run"]
