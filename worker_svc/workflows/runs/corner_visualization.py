"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import coloured, drawing

run = drawing(
    lambda p: sv.BoxCornerAnnotator(
        **coloured(p), thickness=int(p["thickness"]), corner_length=int(p["corner_length"])
    ),
    masks=False,
)
