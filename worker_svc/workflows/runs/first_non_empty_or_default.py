"""What the block does: ``worker_svc.workflows.classical.first_non_empty_or_default``."""

from worker_svc.workflows.classical import first_non_empty_or_default as run

__all__ = ["run"]
