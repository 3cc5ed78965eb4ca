"""A web server in its own process that the scale benchmark's references point at: ``/img/<name>`` answers a
small JPEG (one of a few hundred, by the name's number), ``/refs-<start>-<count>.jsonl`` the references
file of ``count`` images from ``start``."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import socket
from collections.abc import Iterator
from multiprocessing.synchronize import Event

from aiohttp import web

from bench.common import tiny_jpegs

POOL = 256


def reference_name(i: int) -> str:
    return f"r{i:07d}.jpg"


def _serve(port: int, ready: Event) -> None:
    images = tiny_jpegs(POOL, seed=1)

    async def image(request: web.Request) -> web.Response:
        number = int(request.match_info["name"][1:8])
        return web.Response(body=images[number % POOL], content_type="image/jpeg")

    async def references(request: web.Request) -> web.Response:
        start, count = int(request.match_info["start"]), int(request.match_info["count"])
        base = f"http://127.0.0.1:{port}/img/"
        lines = "".join(json.dumps({"name": reference_name(i), "url": base + reference_name(i)}) + "\n"
                        for i in range(start, start + count))
        return web.Response(text=lines, content_type="application/x-ndjson")

    app = web.Application()
    app.router.add_get("/img/{name}", image)
    app.router.add_get("/refs-{start:\\d+}-{count:\\d+}.jsonl", references)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def origin() -> Iterator[int]:
    """The server's port while it runs."""
    port = free_port()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_serve, args=(port, ready), daemon=True)
    proc.start()
    ready.wait(30)
    try:
        yield port
    finally:
        proc.terminate()
        proc.join(10)
