"""What the block does: ``worker_svc.workflows.perspective.perspective_correction``."""

from worker_svc.workflows.perspective import perspective_correction as run

__all__ = ["run"]
