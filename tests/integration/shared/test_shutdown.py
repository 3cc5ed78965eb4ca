"""A service process always gets to its exit: each shutdown step is bounded, as Kubernetes' grace period is."""

import time

import pytest

from shared import runtime
from shared.config import ServiceSettings
from shared.runtime import ServiceSpec, open_resources


async def test_a_connection_never_given_back_does_not_hold_the_shutdown(
        settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "SHUTDOWN_HOOK_TIMEOUT_S", 0.5)
    spec: ServiceSpec[None] = ServiceSpec(name="shutdown-test", settings=settings, relay_outbox=False)
    async with open_resources(spec) as res:
        held = await res.pool.acquire()  # as a handler stuck in a query would hold it
        assert await held.fetchval("SELECT 1") == 1
        started = time.monotonic()
    # pool.close() alone waits for the connection for ever: bounded, then the pool is terminated
    assert 0.4 < time.monotonic() - started < 5
    assert res.pool.is_closing()
    with pytest.raises(Exception, match="released back to the pool"):  # terminated under its holder
        await held.fetchval("SELECT 1")
