"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import coloured, drawing, position

run = drawing(
    lambda p: sv.TriangleAnnotator(
        **coloured(p),
        position=position(p),
        base=int(p["base"]),
        height=int(p["height"]),
        outline_thickness=int(p["outline_thickness"]),
    ),
    masks=False,
)
