"""What the block does: ``worker_svc.workflows.formatters.csv_formatter``."""

from worker_svc.workflows.formatters import csv_formatter as run

__all__ = ["run"]
