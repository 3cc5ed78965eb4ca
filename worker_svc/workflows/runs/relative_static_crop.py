"""What the block does: ``worker_svc.workflows.transforms.relative_static_crop``."""

from worker_svc.workflows.transforms import relative_static_crop as run

__all__ = ["run"]
