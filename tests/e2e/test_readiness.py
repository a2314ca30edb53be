"""/healthz says the process runs; /readyz checks Postgres (and its schema) and
Temporal, and answers 503 problem+json naming what is down."""

import uuid
from pathlib import Path

import httpx
import psycopg
from alembic.script import ScriptDirectory
from temporalio.testing import WorkflowEnvironment

from api.resources import TemporalConnection
from cli.embedded import EmbeddedPostgres, free_port
from db.migrate import alembic_config, head_revision, upgrade
from settings import Settings
from tests.e2e.cutting_proxy import CuttingProxy, api_for


async def test_healthz_and_readyz_when_all_is_up(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"postgres": "ok", "temporal": "ok"}}


async def test_readyz_is_503_naming_postgres_when_it_goes_down(
    tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=False)
    server.start()
    try:
        server.ensure_database("oms")
        settings = Settings(database_url=server.url("oms"))
        upgrade(settings.database_url)
        async with api_for(settings, TemporalConnection(settings, dev_env.client)) as client:
            assert (await client.get("/readyz")).status_code == 200
            server.stop()

            response = await client.get("/readyz")
    finally:
        server.stop()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["checks"]["temporal"] == "ok"
    assert body["checks"]["postgres"].startswith("down:")
    assert body["detail"].startswith("postgres down")
    assert "temporal" not in body["detail"]


async def test_readyz_is_503_when_the_schema_is_not_migrated(
    postgres: EmbeddedPostgres, dev_env: WorkflowEnvironment
) -> None:
    name = f"oms_unmigrated_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    settings = Settings(database_url=postgres.url(name))
    async with api_for(settings, TemporalConnection(settings, dev_env.client)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "postgres not ready: schema not migrated: run `oms migrate`"
    assert response.json()["checks"]["temporal"] == "ok"


async def test_readyz_is_503_on_a_schema_behind_the_code_and_ready_past_it(
    postgres: EmbeddedPostgres, dev_env: WorkflowEnvironment
) -> None:
    """Behind: `oms migrate` has not run for this release. Past: a newer release
    migrated it (its replicas roll out beside this one, or its code was rolled back);
    migrations keep the schema usable by the release before, so this one serves."""
    name = f"oms_behind_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    settings = Settings(database_url=postgres.url(name))
    head = head_revision()
    assert head is not None
    previous = (
        ScriptDirectory.from_config(alembic_config(settings.database_url))
        .get_revision(head)
        .down_revision
    )
    upgrade(settings.database_url, str(previous))
    async with api_for(settings, TemporalConnection(settings, dev_env.client)) as client:
        behind = await client.get("/readyz")
        upgrade(settings.database_url)
        at_head = await client.get("/readyz")
        with psycopg.connect(postgres.url(name).replace("+psycopg", ""), autocommit=True) as db:
            newer = f"{int(head) + 1:0{len(head)}d}"  # the next release's
            db.execute("UPDATE alembic_version SET version_num = %s", (newer,))
        past = await client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["detail"] == (
        f"postgres not ready: schema at {previous}, code expects {head}: run `oms migrate`"
    )
    assert (at_head.status_code, past.status_code) == (200, 200)
    assert past.json()["checks"] == {"postgres": "ok", "temporal": "ok"}


async def test_readyz_is_503_naming_temporal_when_it_is_unreachable(database_url: str) -> None:
    settings = Settings(database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}")
    async with api_for(settings, TemporalConnection(settings)) as client:
        healthz = await client.get("/healthz")
        response = await client.get("/readyz")
    assert healthz.status_code == 200
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["temporal"].startswith("down:")
    assert body["detail"].startswith("temporal down")


async def test_readyz_stays_ready_when_temporal_closes_its_connections(
    database_url: str, dev_env: WorkflowEnvironment
) -> None:
    """A cut connection fails the health check made on it (CANCELLED or a transport
    error: the SDK does not ask a health check again; without the probe's own retry
    5 of 40 readiness reads after a cut said Temporal down): the probe asks again on
    a new connection instead of reporting Temporal down."""
    answers: list[dict[str, str]] = []
    async with CuttingProxy(dev_env.client.service_client.config.target_host) as proxy:
        settings = Settings(database_url=database_url, temporal_address=proxy.address)
        async with api_for(settings, TemporalConnection(settings)) as client:
            assert (await client.get("/readyz")).status_code == 200
            for _ in range(40):
                proxy.cut()
                answers.append((await client.get("/readyz")).json()["checks"])
        cut = proxy.cut_connections
    assert answers == [{"postgres": "ok", "temporal": "ok"}] * 40
    assert cut >= 40  # every check ran on a connection cut before it
