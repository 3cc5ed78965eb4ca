"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import drawing, lookup, palette, position

run = drawing(
    lambda p: sv.CropAnnotator(
        position=position(p),
        scale_factor=float(p["scale_factor"]),
        border_color=palette(p),
        border_color_lookup=lookup(p),
        border_thickness=int(p["border_thickness"]),
    ),
    masks=False,
)
