"""What the block does: ``worker_svc.workflows.classical.stitch_ocr_detections``."""

from worker_svc.workflows.classical import stitch_ocr_detections as run

__all__ = ["run"]
