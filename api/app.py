"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.body_limit import BodyLimitMiddleware
from api.event_docs import install_event_docs
from api.metrics import ApiMetrics, MetricsMiddleware
from api.openapi import install_openapi
from api.problems import install_problem_handlers
from api.request_context import RequestContextMiddleware
from api.resources import Resources
from api.routes import (
    catalogue,
    fulfillment,
    health,
    inventory,
    keys,
    orders,
    returns,
    stock_reads,
)
from api.routes.alerts import router as alerts_router
from api.routes.backorders import router as backorders_router
from api.routes.events import router as events_router
from api.routes.inventory_health import router as inventory_health_router
from api.routes.inventory_scan import router as inventory_scan_router
from api.routes.lots import router as lots_router
from api.routes.master_data import router as master_data_router
from api.routes.overview import router as overview_router
from api.routes.purchasing import router as purchasing_router
from api.routes.replenishment import router as replenishment_router
from api.routes.transfers import router as transfers_router
from api.routes.webhooks import router as webhooks_router
from api.units import quantities_of
from console.app import create_console
from observability.tracing import Tracing
from settings import Settings

DESCRIPTION = """
Order management and inventory on durable Temporal workflows.

Every `/v1` route needs `Authorization: Bearer <API key>`. Roles: `admin` (all),
`oms` (orders, returns), `wms` (warehouse confirmations and stock), `viewer` (reads).
Errors are `application/problem+json` (RFC 9457). Strings refuse control characters
(tab and line breaks are allowed only in free text such as reasons), quantities and
amounts are read as exact decimals, bodies over the size limit get 413.
"""


def create_app(
    settings: Settings | None = None,
    resources: Resources | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """Build the app. Given `resources` (tests), it uses them and closes nothing;
    otherwise it builds its own at startup and closes them at shutdown. Traces go
    where `tracing` says (by default: where the settings say)."""
    settings = settings or (resources.settings if resources else Settings())
    tracing = tracing or Tracing.from_settings(settings, "oms-api")
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if getattr(app.state, "resources", None) is None:
            owned = app.state.resources = Resources.build(settings, tracing, metrics)
            owned.start()
        try:
            yield
        finally:
            await console.state.api_transport.close()
            if owned is not None:
                await owned.close()
                tracing.shutdown()

    # FastAPIOffline: the /docs and /redoc pages load their scripts from this server,
    # not from a CDN (no network beyond the API itself).
    app = FastAPIOffline(
        title="OMS — order fulfillment",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.resources = resources
    app.state.registry = metrics.registry
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)  # outermost of ours: every line has the id
    install_problem_handlers(app, quantities_of)
    install_openapi(app)
    # A request is matched against the routes in this order, path by path: the
    # busiest (orders placed, the WMS's queue and steps) first. No two routers
    # share a path, so the order changes nothing else (but the paths' order in
    # the OpenAPI document).
    app.include_router(orders.router)
    app.include_router(fulfillment.router)
    app.include_router(health.router)
    app.include_router(keys.router)
    app.include_router(catalogue.router)
    app.include_router(master_data_router)
    app.include_router(inventory.router)
    app.include_router(inventory_health_router)
    app.include_router(inventory_scan_router)
    app.include_router(replenishment_router)
    app.include_router(stock_reads.router)
    app.include_router(backorders_router)
    app.include_router(returns.router)
    app.include_router(transfers_router)
    app.include_router(purchasing_router)
    app.include_router(lots_router)
    app.include_router(alerts_router)
    app.include_router(webhooks_router)
    app.include_router(events_router)
    app.include_router(overview_router)
    install_event_docs(app)
    console = create_console(app, settings)
    app.mount("/console", console)
    tracing.instrument_app(app)
    return app
