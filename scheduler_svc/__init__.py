"""Jobs: the batch-processing API, task planning, progress, cumulative runtime, stage transitions."""
