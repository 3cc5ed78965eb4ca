"""What the block does: ``worker_svc.workflows.classical.overlap``."""

from worker_svc.workflows.classical import overlap as run

__all__ = ["run"]
