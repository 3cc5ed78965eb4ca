"""What the block does, frame by frame of a video: ``worker_svc.workflows.visualizations.trace_visualization``."""

from worker_svc.workflows.visualizations import trace_visualization as stateful

__all__ = ["stateful"]
