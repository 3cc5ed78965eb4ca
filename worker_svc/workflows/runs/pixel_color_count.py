"""What the block does: ``worker_svc.workflows.classical.pixel_color_count``."""

from worker_svc.workflows.classical import pixel_color_count as run

__all__ = ["run"]
