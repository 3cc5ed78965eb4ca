"""What the block does: draws its predictions on its image (supervision's annotator)."""

from worker_svc.workflows.visualizations import drawing, label_annotator

run = drawing(label_annotator, masks=False)
