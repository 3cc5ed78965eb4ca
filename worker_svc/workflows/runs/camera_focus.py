"""What the block does: ``worker_svc.workflows.classical.camera_focus``."""

from worker_svc.workflows.classical import camera_focus as run

__all__ = ["run"]
