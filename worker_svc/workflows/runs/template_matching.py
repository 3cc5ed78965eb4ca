"""What the block does: ``worker_svc.workflows.fusion.template_matching``."""

from worker_svc.workflows.fusion import template_matching as run

__all__ = ["run"]
