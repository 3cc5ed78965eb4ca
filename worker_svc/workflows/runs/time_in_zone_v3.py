"""What the block does, frame by frame of a video (v3: one polygon or a list of them)."""

from worker_svc.workflows.video_blocks import time_in_zone

stateful = time_in_zone(True)
