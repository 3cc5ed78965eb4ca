"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import coloured, drawing, positive

run = drawing(
    lambda p: sv.HaloAnnotator(**coloured(p), opacity=float(p["opacity"]), kernel_size=positive(p, "kernel_size")),
    masks=True,
)
