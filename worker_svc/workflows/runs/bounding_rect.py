"""What the block does: ``worker_svc.workflows.bounding_rect.bounding_rect``."""

from worker_svc.workflows.bounding_rect import bounding_rect as run

__all__ = ["run"]
