"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import colour, drawing

run = drawing(
    lambda p: sv.BackgroundOverlayAnnotator(color=colour(p["color"]), opacity=float(p["opacity"])), masks="polygons"
)
