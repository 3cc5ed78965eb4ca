"""Roboflow Workflow definitions: compile (validate) and run with Conveyor's built-in core blocks."""
