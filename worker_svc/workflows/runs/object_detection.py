"""What the block does: the model on each image, every crop of one image in one session call
(``worker_svc.workflows.model_runs``)."""

from worker_svc.workflows.model_runs import detect as run
from worker_svc.workflows.model_runs import detect_all as batched

__all__ = ["batched", "run"]
