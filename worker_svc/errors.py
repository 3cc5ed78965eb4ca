"""Errors of worker_svc."""

from __future__ import annotations


class TaskAborted(Exception):
    """The job was aborted or failed while this task ran: stop and report it."""


class FileFailed(Exception):
    """One input file could not be processed; the task goes on with the others."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
