"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import coloured, drawing

run = drawing(lambda p: sv.PolygonAnnotator(**coloured(p), thickness=int(p["thickness"])), masks=True)
