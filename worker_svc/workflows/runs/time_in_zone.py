"""What the block does, frame by frame of a video (v1 and v2: one polygon)."""

from worker_svc.workflows.video_blocks import time_in_zone

stateful = time_in_zone(False)
