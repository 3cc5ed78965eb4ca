"""What the block does: ``worker_svc.workflows.classical.json_parser``."""

from worker_svc.workflows.classical import json_parser as run

__all__ = ["run"]
