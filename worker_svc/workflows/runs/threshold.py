"""What the block does: ``worker_svc.workflows.classical.threshold``."""

from worker_svc.workflows.classical import threshold as run

__all__ = ["run"]
