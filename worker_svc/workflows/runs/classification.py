"""What the block does: a single-label classifier on each image."""

from worker_svc.workflows.model_runs import classify_as

run = classify_as(multi_label=False)
