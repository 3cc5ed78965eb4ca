"""Errors of data staging."""

from __future__ import annotations

from shared.errors import Conflict, Gone, NotFound


class BatchNotFound(NotFound):
    def __init__(self, batch_id: str) -> None:
        super().__init__(f"batch {batch_id!r} does not exist in this workspace")
        self.batch_id = batch_id


class BatchExpired(Gone):
    def __init__(self, batch_id: str) -> None:
        super().__init__(f"batch {batch_id!r} has expired (staged data is kept for 7 days)")
        self.batch_id = batch_id


class BatchTypeConflict(Conflict):
    """Simple and bulk uploads, or images and videos, cannot be mixed in one batch."""

    def __init__(self, batch_id: str, existing: str, requested: str) -> None:
        super().__init__(f"batch {batch_id!r} is a {existing} batch and cannot take {requested} uploads "
                         "(a batch of single image uploads may grow by bulk uploads, but single uploads cannot "
                         "go into a bulk batch, and images and videos never share a batch); use another batch id")
        self.batch_id = batch_id


class DuplicateFile(Conflict):
    def __init__(self, batch_id: str, file_name: str) -> None:
        super().__init__(f"batch {batch_id!r} already holds a file named {file_name!r}")
