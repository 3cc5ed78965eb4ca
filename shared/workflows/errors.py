"""Errors of workflow definitions."""

from shared.errors import InvalidInput


class WorkflowInvalid(InvalidInput):
    """The workflow definition cannot be run (unknown or blocked block, bad selector, cycle...)."""


class BuiltinLacks(WorkflowInvalid):
    """The definition uses a block or operation the built-in executor does not have (Roboflow's engine may)."""


class WorkflowRunFailed(RuntimeError):
    """One image's run failed inside the workflow (recorded as that file's failure)."""
