"""The worker's model preload against the real registry (PostgreSQL + S3): a model registered after the
worker started is waited for (through the reference the registry publishes in the models bucket), loaded and
warmed; one never registered is skipped."""

import asyncio
from pathlib import Path

import asyncpg

from scheduler_svc.default_model import ensure_default_model
from scheduler_svc.registry import register_model
from scheduler_svc.repository import SchedulerRepository, model_ref
from shared.config import ServiceSettings
from shared.storage import ObjectStore
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache


async def test_a_model_registered_after_start_is_loaded_once_with_every_lane(
        pool: asyncpg.Pool, store: ObjectStore, unique: str, tmp_path: Path, stack_env: dict[str, str]) -> None:
    cache = ModelCache(store, WorkerSettings(inference_lanes=2, cache_dir=tmp_path))
    model_id = f"preload-{unique}"
    preloading = asyncio.create_task(cache.preload([model_id, f"never-{unique}"], wait_s=3, retry_s=0.05))
    await asyncio.sleep(0.3)
    assert not preloading.done()  # not registered yet: it waits (as for the scheduler's default model)
    onnx = ensure_default_model(ServiceSettings().cache_dir / "models")
    async with pool.acquire() as conn:
        await register_model(conn, store, None, model_id, onnx.onnx_path.read_bytes(), "object-detection",
                             onnx.class_names)
    assert await asyncio.wait_for(preloading, 30) == [model_id]  # the other one was skipped after wait_s
    ref = await cache.shared_ref(model_id)
    assert ref is not None and ref.task == "object-detection" and ref.class_names == onnx.class_names
    preloaded = await cache.load(ref)
    assert len(preloaded.sessions) == 2
    # a task of any workspace carries the same reference (the registry's row) and finds the model loaded
    async with pool.acquire() as conn:
        row = await SchedulerRepository(conn).get_model(await pool.fetchval("SELECT gen_random_uuid()::text"),
                                                        model_id)
    assert await cache.load(model_ref(row)) is preloaded
    preloaded.close()
