"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from models.core.settings import Settings, get_settings
from models.log.keys import load_signing_keys
from models.log.reads import every_log
from models.runtime import Runtime
from prometheus_client import REGISTRY

from api import contract, ops, problem_types, problems, security, tiles
from api.alerts import endpoints as alerts
from api.audit import endpoints as audit
from api.auth import endpoints as auth
from api.completeness import endpoints as completeness
from api.convoys import endpoints as convoys
from api.returns import endpoints as returns
from api.devices import endpoints as devices
from api.enroll import endpoints as enroll
from api.epcis import endpoints as epcis
from api.events import endpoints as events
from api.export import endpoints as export
from api.handoffs import endpoints as handoffs
from api.handoffs import papers as handoff_papers
from api.stocktakes import endpoints as stocktakes
from api.items import endpoints as items
from api.labels import endpoints as labels
from api.logs import endpoints as logs
from api.me import endpoints as me
from api.pages import endpoints as pages
from api.pages.compression import PageCompression
from api.sites import endpoints as sites
from api.stats import endpoints as stats
from api.users import endpoints as users
from api.webhooks import endpoints as webhooks
from api.witnesses import endpoints as witnesses
from api.limits import BodyLimit
from api.observability import RequestContext, configure_logging

DESCRIPTION = """Chain of custody for election logistics. Every scan of a ballot box is an
entry in an append-only, hash-chained log per KPU Kabupaten/Kota that anyone can verify
(RFC 9162 proofs, C2SP checkpoints and tiles)."""


def create_app(settings: Settings | None = None, *, start_background: bool = True) -> FastAPI:
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Production refuses to start when a signing key is missing.
        if settings.is_production:
            load_signing_keys(runtime.keys, runtime.databases)
            runtime.keys.token_key()
        collector = ops.LogCollector(runtime.databases)
        REGISTRY.register(collector)
        if start_background:
            if settings.read_heads_at_start:
                runtime.sequencer.warm_in_background(lambda: [log.id for log in every_log(runtime.databases)])
            runtime.checkpointer.start()
            runtime.overdue.start()
            runtime.gaps.start()
            runtime.pickups.start()
            if settings.webhook_delivery:
                runtime.webhooks.start()
        try:
            yield
        finally:
            REGISTRY.unregister(collector)
            runtime.close()

    app = FastAPI(
        title="Jejak",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=contract.operation_id,
    )
    app.state.runtime = runtime  # the services' owner: api/deps.py hands each endpoint those it uses
    problems.install(app, pages.error_page)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    security.install(app, settings)
    app.add_middleware(RequestContext)
    app.add_middleware(PageCompression)
    # A request is matched against the routers in this order, each router's routes in
    # turn (twice, in this FastAPI): the ones a crowd or the phones call come first (a
    # tenth of a check page's time was matching). Each route's paths still reach it: the
    # order changes no answer.
    for module in (
        pages, events, items, tiles, logs, auth, sites, labels, devices, export, epcis, handoffs, handoff_papers,
        stocktakes, completeness, convoys, returns, alerts, stats, webhooks, users, me, enroll, audit, witnesses,
        ops, problem_types,
    ):  # fmt: skip
        app.include_router(module.router)
    contract.document(app, settings.public_url)
    app.mount("/static", pages.static, name="static")
    return app


def app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory api.app:app_from_env`."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # What is loaded by now (modules, routes, schemas: about 190,000 objects) lives as
    # long as the server. Frozen, the cyclic collector stops walking it at every full
    # collection: a pause that stalled each request in flight and doubled the single
    # scans' p99 in `jejak bench ingest` (docs/BENCHMARKS.md).
    gc.collect()
    gc.freeze()
    return app
