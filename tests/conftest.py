"""Shared fixtures: real PostgreSQL (embedded, one fresh cluster and database per
session, migrated), real Temporal (time-skipping test server and dev server), the
API app on both, and unique tenants with keys for every role."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.resources import Resources, TemporalConnection
from cli.embedded import STUCK_RUN_FLAG, EmbeddedPostgres, bin_path, free_port
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.tenants import create_api_key, ensure_tenant
from domain.roles import Role
from settings import Settings
from tests.integration.stock_world import World, make_world
from worker import build_worker, webhook_activities
from workflows.client import DATA_CONVERTER, register_search_attributes
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


def unique(prefix: str) -> str:
    """An id no other test uses (tests share one database and one Temporal)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port(), durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres: EmbeddedPostgres) -> str:
    name = f"oms_test_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    url = postgres.url(name)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url, database_pool_size=20))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


DELETE_AT_ONCE = "history.transferProcessorEnsureCloseBeforeDelete=false"

# -- Temporal ----------------------------------------------------------------------


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=bin_path("temporal-test-server"),
        data_converter=DATA_CONVERTER,
    )
    # The test server does not know custom search attributes until told.
    await register_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=bin_path("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        data_converter=DATA_CONVERTER,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=[
            *("--dynamic-config-value", STUCK_RUN_FLAG),
            # A deleted closed run goes at once, not after the transfer queue's next
            # ack (about 30 s): tests delete runs as Temporal's retention would.
            *("--dynamic-config-value", DELETE_AT_ONCE),
        ],
    )
    yield env
    await env.shutdown()


CONSOLE_SECRET = "console-secret-for-tests"


@pytest.fixture(scope="session")
def settings(database_url: str, dev_env: WorkflowEnvironment) -> Settings:
    return Settings(
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        temporal_namespace=dev_env.client.namespace,
        temporal_task_queue=unique("oms-e2e"),
        # webhook receivers in tests listen on 127.0.0.1
        webhooks_allow_private_urls=True,
        console_secret=CONSOLE_SECRET,  # browser tests sign session cookies with it
    )


@pytest.fixture(scope="session")
async def dev_worker(
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> AsyncIterator[Worker]:
    """The project's worker on the dev server, as worker.py builds it (it delivers
    webhooks when a test runs a relay on its task queue)."""
    async with httpx.AsyncClient() as http:
        worker = build_worker(
            dev_env.client,
            sessions,
            settings.temporal_task_queue,
            webhooks=webhook_activities(sessions, settings, http),
        )
        async with worker:
            yield worker


# -- API ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def resources(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> Resources:
    return Resources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=TemporalConnection(settings, dev_env.client),
    )


@pytest.fixture(scope="session")
async def api(resources: Resources) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
        yield client


@dataclass(frozen=True)
class TenantKeys:
    slug: str
    keys: dict[Role, str]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


async def read_until(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    done: Callable[[Any], bool],
    seconds: float = 30,
) -> Any:
    """GET `path` (as the tenant's viewer) until `done(body)`: workflows record their
    steps asynchronously, so a test polls rather than reading once."""
    body: Any = None
    for _ in range(int(seconds / 0.1)):
        body = (await api.get(path, headers=tenant.auth(Role.VIEWER))).json()
        if done(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never became as expected: {body}")


async def make_tenant(sessions: async_sessionmaker[AsyncSession]) -> TenantKeys:
    slug = unique("t")
    async with sessions() as session, session.begin():
        tenant = await ensure_tenant(session, slug)
        keys = {
            role: (
                await create_api_key(session, tenant, role, f"test {role}", created_by="test")
            ).plaintext
            for role in Role
        }
    return TenantKeys(slug, keys)


@pytest.fixture
async def tenant(sessions: async_sessionmaker[AsyncSession]) -> TenantKeys:
    """A fresh tenant with one key per role."""
    return await make_tenant(sessions)


@pytest.fixture
async def other_tenant(sessions: async_sessionmaker[AsyncSession]) -> TenantKeys:
    return await make_tenant(sessions)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[World]:
    """A fresh tenant with warehouses, locations and items; its stock invariants are
    checked after the test."""
    world = await make_world(sessions)
    yield world
    assert await world.violations() == []
