"""What the block does: ``worker_svc.workflows.transforms.detections_classes_replacement``."""

from worker_svc.workflows.transforms import detections_classes_replacement as run

__all__ = ["run"]
