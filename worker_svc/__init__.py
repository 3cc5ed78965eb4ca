"""Workers: consume the task topic of one machine type and run the workflow on each file."""
