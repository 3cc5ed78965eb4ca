"""The frames and requests of the engine protocol (see ``shared.workflows.roboflow_engine``): what both sides
share. Imports nothing of the services, so the engine's own interpreter can load it."""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
from collections.abc import Iterator
from typing import IO, Any, BinaryIO


def read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


def open_protocol() -> tuple[BinaryIO, BinaryIO, dict[str, Any]]:
    """In a host program: the protocol's streams (anything the engine prints goes to stderr, never into the
    protocol) and the configuration frame; the engine is configured and the SSRF guard in place."""
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    proto_in = sys.stdin.buffer
    config = json.loads(read_frame(proto_in) or b"{}")
    from shared.workflows.engine_setup import configure_engine, guard_outbound

    configure_engine()
    guard_outbound(frozenset(config.get("allowed_hosts") or []))
    return proto_in, proto_out, config


def requests(proto_in: BinaryIO) -> Iterator[dict[str, Any]]:
    """The host's requests, one decoded JSON object at a time, until the service closes the pipe."""
    while (head := read_frame(proto_in)) is not None:
        yield json.loads(head)


def answer(proto_out: BinaryIO, reply: dict[str, Any]) -> None:
    write_frame(proto_out, json.dumps(reply, default=as_roboflow_serves).encode())


def as_roboflow_serves(value: Any) -> Any:
    """What Roboflow's inference server answers for a value JSON has no type for (orjson with its numpy option):
    arrays as lists, numpy scalars as numbers, bytes as base64; anything else as text."""
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars, without importing numpy
        return value.tolist()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def check_program() -> None:
    """The check program: compile each definition asked for and answer ok or the engine's reason."""
    proto_in, proto_out, _ = open_protocol()
    from shared.workflows.engine_setup import compile_definition, engine_version, message

    answer(proto_out, {"ok": True, "engine": engine_version()})
    for request in requests(proto_in):
        try:
            if request.get("op") != "check":
                raise ValueError(f"the check program answers only checks, not {request.get('op')!r}")
            compile_definition(request["workflow"])
            answer(proto_out, {"ok": True})
        except Exception as exc:
            answer(proto_out, {"error": message(exc)})


if __name__ == "__main__":
    check_program()
