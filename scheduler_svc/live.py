"""Live job progress as server-sent events (the web UI follows jobs with these; any SSE client can).

``GET /batch-processing/v1/external/{workspace}/jobs/{job_id}/events`` sends ``event: job`` with the job's
details whenever they change, a comment every ``keepalive_s`` so proxies keep the stream open, and closes
after the terminal state. The API key may travel as ``?api_key=`` since ``EventSource`` sends no headers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from scheduler_svc.api import job_metadata
from scheduler_svc.errors import JobNotFound
from scheduler_svc.repository import SchedulerRepository
from shared.auth import Workspace, workspace_from_path
from shared.ids import JOB_ID_MAX, looks_like_id

live = APIRouter(prefix="/batch-processing/v1/external/{workspace}", tags=["batch-processing"])
POLL_S = 0.5
KEEPALIVE_S = 15.0


@live.get("/jobs/{job_id}/events", response_class=StreamingResponse)
async def job_events(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path)) -> StreamingResponse:
    pool = request.app.state.pool
    if not looks_like_id(job_id, JOB_ID_MAX):
        raise JobNotFound(job_id)
    async with pool.acquire() as conn:
        if await SchedulerRepository(conn).get_job(ws.id, job_id) is None:
            raise JobNotFound(job_id)

    async def stream() -> AsyncIterator[str]:
        last, last_sent = "", time.monotonic()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            async with pool.acquire() as conn:
                repo = SchedulerRepository(conn)
                job = await repo.get_job(ws.id, job_id)
                if job is None:
                    yield "event: gone\ndata: {}\n\n"
                    return
                meta = await job_metadata(repo, job)
            payload = meta.model_dump_json(by_alias=True)
            if payload != last:
                yield f"event: job\ndata: {payload}\n\n"
                last, last_sent = payload, time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            if meta.is_terminal:
                return
            await asyncio.sleep(POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
