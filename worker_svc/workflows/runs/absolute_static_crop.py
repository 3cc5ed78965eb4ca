"""What the block does: ``worker_svc.workflows.transforms.absolute_static_crop``."""

from worker_svc.workflows.transforms import absolute_static_crop as run

__all__ = ["run"]
