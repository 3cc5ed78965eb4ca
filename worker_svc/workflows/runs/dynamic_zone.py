"""What the block does: ``worker_svc.workflows.zones.dynamic_zone``."""

from worker_svc.workflows.zones import dynamic_zone as run

__all__ = ["run"]
