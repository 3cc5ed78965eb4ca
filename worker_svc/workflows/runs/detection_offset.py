"""What the block does: ``worker_svc.workflows.transforms.detection_offset``."""

from worker_svc.workflows.transforms import detection_offset as run

__all__ = ["run"]
