"""Error vocabulary shared by every service.

``ServiceError`` carries its HTTP status and is rendered by one handler as
``{"error": <ClassName>, "message": <text>}`` (Roboflow clients print the JSON body verbatim).
Subscriber-side errors are sorted by what the consumer must do: ``InvalidEvent`` is permanent
(dead-lettered, offset committed), ``TransientError`` is retried.
"""

from __future__ import annotations

import errno
import logging
import socket

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.limits import BodyTooLarge

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of every error raised by Conveyor code; carries the HTTP status it maps to."""

    status_code = 500

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class InvalidInput(ServiceError):
    """The request is malformed or breaks a documented limit."""

    status_code = 400


class Unauthorized(ServiceError):
    """No API key, or an unknown or revoked one."""

    status_code = 401


class Forbidden(ServiceError):
    """The key is valid but does not grant access to the addressed workspace."""

    status_code = 403


class NotFound(ServiceError):
    """The addressed resource does not exist (in this workspace)."""

    status_code = 404


class Conflict(ServiceError):
    """The request conflicts with the current state of the resource."""

    status_code = 409


class Gone(ServiceError):
    """The resource existed but has expired."""

    status_code = 410


class TooLarge(ServiceError):
    """The payload exceeds a documented size limit."""

    status_code = 413


class NotSupported(ServiceError):
    """A Roboflow platform feature that Conveyor deliberately does not offer; the message says what to use."""

    status_code = 501


class InvalidEvent(Exception):
    """A consumed event can never be processed: it is dead-lettered and its offset committed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(Exception):
    """A consumed event failed for a reason that may pass (a dependency is down): retry it."""


# errno values of an OSError that mean "the network or the peer is away", not "this cannot be done"
_NETWORK_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                             errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.EAGAIN})
# S3 error codes of throttling and of the service being busy (5xx come with their status)
_S3_RETRYABLE = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable",
                           "InternalError", "RequestLimitExceeded"})


def is_transient(exc: BaseException) -> bool:
    """Errors that mean "the infrastructure is away for a moment" (a restarting database, broker or S3; the
    network between), not "this event cannot be handled": consumers wait them out instead of dead-lettering
    the event. Anything else (a missing file, a bug, a refused statement) is retried a bounded number of times
    and then dead-lettered with its reason, so it cannot block its partition."""
    import asyncpg
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
    from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

    if isinstance(exc, TransientError | TimeoutError | ConnectionError | socket.gaierror):
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | asyncpg.CannotConnectNowError
                  | asyncpg.TooManyConnectionsError | asyncpg.AdminShutdownError
                  | asyncpg.exceptions.CrashShutdownError):
        return True
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError | KafkaConnectionError
                  | KafkaTimeoutError | NodeNotReadyError | RequestTimedOutError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or error.get("Code") in _S3_RETRYABLE
    if type(exc) is OSError and exc.errno in _NETWORK_ERRNOS:
        return True
    return exc.__cause__ is not None and is_transient(exc.__cause__)


_HTTP_ERRORS = {400: "InvalidInput", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
                409: "Conflict", 410: "Gone", 413: "TooLarge", 415: "UnsupportedMediaType"}


def unexpected_answer(exc: Exception) -> JSONResponse:
    """The answer to an exception no handler took."""
    # "the database (or S3) is away for a moment" is a 503 that clients retry (inference-cli does); any other
    # failure is a JSON 500 (the traceback goes to the log, not to the caller)
    import asyncpg

    if isinstance(exc, ValidationError):  # a body a route validated itself (a workflow's several shapes)
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        return JSONResponse({"error": "InvalidInput", "message": f"invalid request: {summary}"}, status_code=400)
    if isinstance(exc, RecursionError):  # JSON nested deeper than the parser goes
        return JSONResponse({"error": "InvalidInput", "message": "the request body is nested too deeply"},
                            status_code=400)
    if isinstance(exc, asyncpg.DataError):  # a value PostgreSQL cannot take (a NUL byte in a name, say)
        return JSONResponse({"error": "InvalidInput", "message": f"the request holds a value that cannot be "
                             f"stored or looked up: {type(exc).__name__}"}, status_code=400)
    if is_transient(exc):
        return JSONResponse({"error": "ServiceUnavailable", "message": "a backing service (database, broker "
                             "or object store) is unreachable for the moment; retry shortly"},
                            status_code=503, headers={"Retry-After": "2"})
    return JSONResponse({"error": "InternalError", "message": "unexpected error; it has been logged"},
                        status_code=500)


class _AnswerUnexpected:
    """Answers an exception no handler took (``unexpected_answer``) inside the app. Starlette's last-resort
    handler would answer it too, but then re-raise it for the server to log, and uvicorn closes the connection
    of a request that raised: the gateway's next request on that kept-alive connection failed with "upstream
    unavailable". The traceback of a 500 is logged here instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            # half an answer is out: nothing to do but let the server close the connection; a body past the
            # limit is BodyLimit's to answer (413), outside this
            if started or isinstance(exc, BodyTooLarge):
                raise
            response = unexpected_answer(exc)
            if response.status_code >= 500 and response.status_code != 503:
                log.error("unexpected error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Render ``ServiceError`` and request-validation failures as JSON 4xx bodies, and any other exception as
    its JSON answer (``unexpected_answer``) without closing the connection."""
    app.add_middleware(_AnswerUnexpected)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"error": type(exc).__name__, "message": exc.message}, status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # the framework's own refusals (unparsable body, unknown route, wrong method) in the same shape as ours
        name = _HTTP_ERRORS.get(exc.status_code, "InvalidInput" if exc.status_code < 500 else "InternalError")
        return JSONResponse({"error": name, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in details)
        return JSONResponse(
            {"error": "InvalidInput", "message": f"invalid request: {summary}", "details": details},
            status_code=422,
        )
