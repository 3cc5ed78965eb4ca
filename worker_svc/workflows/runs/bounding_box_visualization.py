"""What the block does: draws its predictions on its image (supervision's annotator)."""

from worker_svc.workflows.visualizations import box_annotator, drawing

run = drawing(box_annotator, masks=False)
