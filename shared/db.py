"""PostgreSQL access: one asyncpg pool per process, created at startup, with JSON codecs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.config import PostgresSettings

ACQUIRE_TIMEOUT_S = 30.0

# The types a service's code holds (a transaction's connection, the pool, a row) without importing the driver:
# SQL itself runs only in repositories and in this platform kit (an import contract checks it).
Connection = asyncpg.Connection
Pool = asyncpg.Pool
Record = asyncpg.Record


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(pg: PostgresSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        pg.url, min_size=pg.pool_min_size, max_size=pg.pool_max_size, init=_init_connection,
        command_timeout=60,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction: committed when the block exits normally, rolled back otherwise."""
    # a bounded wait: after a database restart a stuck acquire becomes a (retried) transient error
    async with pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
        yield conn
