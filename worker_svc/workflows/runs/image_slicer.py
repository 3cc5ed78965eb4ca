"""What the block does: v1's slices (``worker_svc.workflows.sahi``)."""

from worker_svc.workflows.sahi import image_slicer

run = image_slicer(1)
