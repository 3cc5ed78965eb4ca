"""Composition root of notifier_svc."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from notifier_svc import subscribers
from notifier_svc.api import deliveries
from notifier_svc.config import NotifierSettings
from notifier_svc.service import Dispatcher
from shared.runtime import Resources, ServiceSpec, create_service_app


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    due = asyncio.Event()  # set by the subscriber once it has stored a delivery: the dispatcher sends it now

    async def deliver(res: Resources[NotifierSettings]) -> None:
        limits = httpx.Limits(max_connections=settings.max_in_flight)
        async with httpx.AsyncClient(limits=limits, trust_env=False) as http:
            await Dispatcher(settings, res.pool, http, due).run()

    return create_service_app(ServiceSpec(
        name="notifier", settings=settings, routers=[deliveries], dependencies=lambda _: settings,
        subscriptions=lambda res: subscribers.build(res, settings, due.set), background=[deliver],
    ))
