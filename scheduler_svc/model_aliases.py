"""Model aliases: a workspace's map from the model ids a workflow names (Roboflow's ``yolov8n-640``,
``project/3``) to the models registered here. Jobs resolve a workflow's model ids through it."""

from __future__ import annotations

import uuid
from typing import Any

from scheduler_svc.repository import SchedulerRepository
from shared.db import Connection, Record


class ModelAliases:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def put(self, ws: str, alias: str, model_id: str) -> None:
        await self.conn.execute(
            "INSERT INTO model_aliases (workspace_id, alias, model_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (workspace_id, alias) DO UPDATE SET model_id = excluded.model_id, created_at = now()",
            uuid.UUID(ws), alias, model_id)

    async def delete(self, ws: str, alias: str) -> bool:
        return await self.conn.execute("DELETE FROM model_aliases WHERE workspace_id = $1 AND alias = $2",
                                       uuid.UUID(ws), alias) != "DELETE 0"

    async def list(self, ws: str) -> list[dict[str, Any]]:
        rows = await self.conn.fetch("SELECT alias, model_id, created_at FROM model_aliases WHERE workspace_id = $1"
                                     " ORDER BY alias", uuid.UUID(ws))
        return [{"alias": r["alias"], "modelId": r["model_id"], "createdAt": r["created_at"].isoformat()}
                for r in rows]

    async def target(self, ws: str, alias: str) -> str | None:
        return await self.conn.fetchval("SELECT model_id FROM model_aliases WHERE workspace_id = $1 AND alias = $2",
                                        uuid.UUID(ws), alias)


async def resolve_model(conn: Connection, ws: str, model_id: str) -> Record | None:
    """The registered model a workflow's model id means: the model of that id, else the one its alias names."""
    repo = SchedulerRepository(conn)
    row = await repo.get_model(ws, model_id)
    if row is not None:
        return row
    target = await ModelAliases(conn).target(ws, model_id)
    return None if target is None else await repo.get_model(ws, target)
