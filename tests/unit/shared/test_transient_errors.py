"""Which errors mean "the infrastructure is away" (wait, never drop the event) and which are permanent
(bounded retries, then the dead-letter topic with the reason)."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.errors import InvalidInput, TransientError, is_transient


def _s3(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "GetObject")


def _caused(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connection refused"), ConnectionResetError(104, "reset by peer"), TimeoutError(),
    BrokenPipeError(), OSError(113, "No route to host"), asyncpg.CannotConnectNowError("starting up"),
    asyncpg.AdminShutdownError("terminating connection"), asyncpg.ConnectionDoesNotExistError("closed"),
    # PostgreSQL killed under load: its other connections end with "crash of another server process" (57P02)
    asyncpg.exceptions.CrashShutdownError("terminating connection because of crash of another server process"),
    EndpointConnectionError(endpoint_url="http://s3"), KafkaConnectionError(), TransientError("S3 away"),
    _s3("SlowDown", 503), _s3("InternalError", 500), _s3("Throttling", 400),
    _caused(RuntimeError("while writing results"), ConnectionResetError()),
], ids=lambda e: type(e).__name__)
def test_the_infrastructure_being_away_is_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    FileNotFoundError(2, "No such file or directory"), PermissionError(13, "Permission denied"),
    IsADirectoryError(21, "Is a directory"), OSError(28, "No space left on device"),
    _s3("NoSuchKey", 404), _s3("AccessDenied", 403), asyncpg.UniqueViolationError("duplicate key"),
    ValueError("bad data"), KeyError("missing"), InvalidInput("no"),
    _caused(RuntimeError("wrapped"), FileNotFoundError(2, "missing")),
], ids=lambda e: type(e).__name__)
def test_everything_else_is_permanent(exc: BaseException) -> None:
    assert not is_transient(exc)
