"""Errors of workflow definitions."""

from shared.errors import InvalidInput


class WorkflowInvalid(InvalidInput):
    """The workflow definition cannot be run (unknown or blocked block, bad selector, cycle...)."""


class WorkflowRunFailed(RuntimeError):
    """One image's run failed inside the workflow (recorded as that file's failure)."""
