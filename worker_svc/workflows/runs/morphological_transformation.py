"""What the block does: v1's operations (``worker_svc.workflows.classical``)."""

from worker_svc.workflows.classical import morphological_transformation

run = morphological_transformation(1)
