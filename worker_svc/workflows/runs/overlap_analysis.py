"""What the block does: ``worker_svc.workflows.fusion.overlap_analysis``."""

from worker_svc.workflows.fusion import overlap_analysis as run

__all__ = ["run"]
