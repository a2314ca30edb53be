"""Postgres or Temporal down: data routes answer 503 problem+json with Retry-After,
never 500; when Postgres is back, the same app serves again at once (its dead
pooled connections replaced, or the request run again when repeating is safe)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.resources import Resources, TemporalConnection
from cli.embedded import EmbeddedPostgres, free_port
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from domain.roles import Role
from settings import Settings
from tests.conftest import TenantKeys, make_tenant, unique

PROBLEM = "application/problem+json"


@asynccontextmanager
async def _app(
    settings: Settings, temporal: TemporalConnection
) -> AsyncIterator[tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]]]:
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    resources = Resources(settings, engine, sessions, temporal)
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
            yield client, sessions
    finally:
        await engine.dispose()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A Postgres of this test's own, to stop and start."""
    server = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=False)
    server.start()
    try:
        server.ensure_database("oms")
        upgrade(server.url("oms"))
        yield server
    finally:
        server.stop()


def _settings(server: EmbeddedPostgres, dev_env: WorkflowEnvironment, **extra: Any) -> Settings:
    return Settings(
        database_url=server.url("oms"),
        database_pool_size=2,
        temporal_address=dev_env.client.service_client.config.target_host,
        temporal_namespace=dev_env.client.namespace,
        temporal_task_queue=unique("no-worker"),
        **extra,
    )


def _item() -> dict[str, Any]:
    return {"sku": unique("SKU"), "name": "Widget"}


def _order(sku: str) -> dict[str, Any]:
    return {
        "order_number": unique("SO"),
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": sku, "quantity": 1, "unit_price": 2}],
    }


def _keyed(tenant: TenantKeys, role: Role) -> dict[str, str]:
    return {**tenant.auth(role), "Idempotency-Key": uuid.uuid4().hex}


async def _calls(api: httpx.AsyncClient, tenant: TenantKeys, sku: str) -> list[httpx.Response]:
    """Reads and writes of several kinds: plain reads, a keyed and an unkeyed write,
    an order (database, then Temporal)."""
    viewer, wms, oms = tenant.auth(Role.VIEWER), tenant.auth(Role.WMS), tenant.auth(Role.OMS)
    warehouse = {"code": unique("WH")[:20], "name": "W", "priority": 1}
    return [
        await api.get("/v1/items", headers=viewer),
        await api.get(f"/v1/items/{sku}", headers=viewer),
        await api.get("/v1/warehouses", headers=viewer),
        await api.post("/v1/items", json=_item(), headers=_keyed(tenant, Role.WMS)),
        await api.post("/v1/warehouses", json=warehouse, headers=wms),
        await api.post("/v1/orders", json=_order(sku), headers=oms),
    ]


async def test_data_routes_answer_503_while_postgres_is_down_and_serve_again_after_restart(
    own_postgres: EmbeddedPostgres, dev_env: WorkflowEnvironment
) -> None:
    settings = _settings(own_postgres, dev_env)
    async with _app(settings, TemporalConnection(settings, dev_env.client)) as (api, sessions):
        tenant = await make_tenant(sessions)
        # The API remembers the units of items it has seen (an order for them needs
        # no database until the workflow records it): the calls while Postgres is
        # down name an item it has not seen yet.
        seen, unseen = _item(), _item()
        for item in (seen, unseen):
            created = await api.post("/v1/items", json=item, headers=tenant.auth(Role.WMS))
            assert created.status_code == 201, created.text
        before = await _calls(api, tenant, seen["sku"])
        assert [r.status_code for r in before] == [200] * 3 + [201] * 3

        own_postgres.stop()
        down = await _calls(api, tenant, unseen["sku"])
        ready = await api.get("/readyz")

        own_postgres.start()
        back = await _calls(api, tenant, unseen["sku"])

    assert [r.status_code for r in down] == [503] * 6, [r.text for r in down]
    for response in down:
        assert response.headers["content-type"] == PROBLEM
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["type"] == "urn:oms:problem:unavailable"
        assert "database" in response.json()["detail"]
    assert ready.status_code == 503
    # The pooled connections died with the server; the first request after the
    # restart already succeeds.
    assert [r.status_code for r in back] == [200] * 3 + [201] * 3, [r.text for r in back]


async def test_a_read_whose_connection_died_runs_again_but_an_unprotected_write_does_not(
    own_postgres: EmbeddedPostgres, dev_env: WorkflowEnvironment
) -> None:
    # Without the check at checkout, the first request after a restart draws a dead
    # connection (then the pool renews every connection it holds).
    settings = _settings(own_postgres, dev_env, database_pool_pre_ping=False)
    async with _app(settings, TemporalConnection(settings, dev_env.client)) as (api, sessions):
        tenant = await make_tenant(sessions)
        viewer, admin = tenant.auth(Role.VIEWER), tenant.auth(Role.ADMIN)

        async def after_restart(method: str, url: str, **kwargs: Any) -> httpx.Response:
            assert (await api.get("/v1/warehouses", headers=viewer)).status_code == 200
            own_postgres.stop()
            own_postgres.start()
            return await api.request(method, url, **kwargs)

        read = await after_restart("GET", "/v1/items", headers=viewer)
        keyed = await after_restart(
            "POST", "/v1/items", json=_item(), headers=_keyed(tenant, Role.WMS)
        )
        # Creating an API key ignores Idempotency-Key: it is not run twice.
        ignored = await after_restart(
            "POST",
            "/v1/api-keys",
            headers=_keyed(tenant, Role.ADMIN),
            json={"role": "viewer", "name": "ignored"},
        )
        unkeyed = await after_restart(
            "POST", "/v1/api-keys", headers=admin, json={"role": "viewer", "name": "unkeyed"}
        )
        keys = (await api.get("/v1/api-keys", headers=admin)).text

    assert read.status_code == 200, read.text
    assert keyed.status_code == 201, keyed.text
    for refused in (ignored, unkeyed):
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == PROBLEM
    assert "ignored" not in keys and "unkeyed" not in keys


async def test_an_order_is_503_not_500_when_temporal_is_unreachable(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    settings = Settings(
        database_url=database_url,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_rpc_timeout_seconds=2,
    )
    async with _app(settings, TemporalConnection(settings)) as (api, _):
        tenant = await make_tenant(sessions)
        sku = _item()["sku"]
        created = await api.post(
            "/v1/items", json={"sku": sku, "name": "W"}, headers=tenant.auth(Role.WMS)
        )
        placed = await api.post("/v1/orders", json=_order(sku), headers=tenant.auth(Role.OMS))
        read = await api.get("/v1/orders/SO-1", headers=tenant.auth(Role.VIEWER))

    assert created.status_code == 201
    for response in (placed, read):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["type"] == "urn:oms:problem:unavailable"
        assert "workflow service" in response.json()["detail"]


async def test_a_statement_waiting_on_a_lock_past_its_timeout_answers_504(
    sessions: async_sessionmaker[AsyncSession], database_url: str, dev_env: WorkflowEnvironment
) -> None:
    settings = Settings(database_url=database_url, database_lock_timeout_ms=100)
    async with _app(settings, TemporalConnection(settings, dev_env.client)) as (api, _):
        tenant = await make_tenant(sessions)
        async with sessions() as holder, holder.begin():
            await holder.execute(text("LOCK TABLE warehouses IN ACCESS EXCLUSIVE MODE"))
            response = await api.get("/v1/warehouses", headers=tenant.auth(Role.VIEWER))

    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "urn:oms:problem:timeout"
    assert "lock timeout" in response.json()["detail"]


async def test_no_free_database_connection_in_time_answers_503(
    sessions: async_sessionmaker[AsyncSession], database_url: str, dev_env: WorkflowEnvironment
) -> None:
    settings = Settings(
        database_url=database_url, database_pool_size=1, database_pool_timeout_seconds=0.2
    )
    tenant = await make_tenant(sessions)
    temporal = TemporalConnection(settings, dev_env.client)
    async with _app(settings, temporal) as (api, own), own() as first, own() as second:
        # the pool's one connection and its one overflow are taken
        await first.execute(text("SELECT 1"))
        await second.execute(text("SELECT 1"))
        response = await api.get("/v1/warehouses", headers=tenant.auth(Role.VIEWER))

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "urn:oms:problem:unavailable"
