"""What the block does: draws its predictions on its image (supervision's annotator)."""

import supervision as sv

from worker_svc.workflows.visualizations import drawing, positive

run = drawing(lambda p: sv.BlurAnnotator(kernel_size=positive(p, "kernel_size")), masks=False)
