"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import coloured, drawing

run = drawing(
    lambda p: sv.EllipseAnnotator(
        **coloured(p), thickness=int(p["thickness"]), start_angle=int(p["start_angle"]), end_angle=int(p["end_angle"])
    ),
    masks=False,
)
