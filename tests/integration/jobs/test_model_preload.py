"""The worker's model preload against the real registry (PostgreSQL + S3): a model registered after the
worker started is waited for, loaded and warmed; one never registered is skipped."""

import asyncio
from pathlib import Path

import asyncpg

from scheduler_svc.default_model import ensure_default_model
from scheduler_svc.registry import register_model
from shared.config import ServiceSettings
from shared.storage import ObjectStore
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache


async def test_a_model_registered_after_start_is_loaded_once_with_every_lane(
        pool: asyncpg.Pool, store: ObjectStore, unique: str, tmp_path: Path, stack_env: dict[str, str]) -> None:
    cache = ModelCache(pool, store, WorkerSettings(inference_lanes=2, cache_dir=tmp_path))
    model_id = f"preload-{unique}"
    preloading = asyncio.create_task(cache.preload([model_id, f"never-{unique}"], wait_s=3, retry_s=0.05))
    await asyncio.sleep(0.3)
    assert not preloading.done()  # not registered yet: it waits (as for the scheduler's default model)
    onnx = ensure_default_model(ServiceSettings().cache_dir / "models")
    async with pool.acquire() as conn:
        await register_model(conn, store, None, model_id, onnx.onnx_path.read_bytes(), "object-detection",
                             onnx.class_names)
    assert await asyncio.wait_for(preloading, 30) == [model_id]  # the other one was skipped after wait_s
    preloaded = await cache.load(None, model_id)
    assert len(preloaded.sessions) == 2
    workspace_id = await pool.fetchval("SELECT gen_random_uuid()::text")
    assert await cache.load(workspace_id, model_id) is preloaded  # a task of any workspace finds it loaded
    preloaded.close()
