"""The `oms` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from domain.roles import Role
from settings import Settings

app = typer.Typer(
    help="Order fulfillment service: run the stack, migrate, seed, manage keys.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        typer.echo(f"invalid settings:\n{error}", err=True)
        raise typer.Exit(2) from error


def _exit(code: int) -> None:
    """Leave without running interpreter teardown: Temporal's core threads can
    abort a clean exit (temporalio/sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def dev() -> None:
    """Start the whole stack on embedded defaults: Postgres, Temporal + UI, worker, API."""
    from cli.dev import DevStack
    from observability.logs import configure_logging

    def say(line: str) -> None:
        typer.echo(line)

    settings = _settings()
    configure_logging(settings)
    _exit(DevStack(settings, say).run())


@app.command()
def api() -> None:
    """Serve the HTTP API (uvicorn) on OMS_API_HOST:OMS_API_PORT."""
    import uvicorn

    from observability.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # uvicorn's lines go through ours (OMS_LOG_FORMAT)
        # on SIGTERM, requests still running after the grace period are canceled
        timeout_graceful_shutdown=settings.api_shutdown_grace_seconds,
    )
    _exit(0)


@app.command()
def worker() -> None:
    """Run a Temporal worker until SIGTERM/SIGINT, then drain and exit 0."""
    import worker as worker_module

    worker_module.main(_settings())  # exits the process when the worker has drained


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to repeat, safe from many replicas)."""
    from db.migrate import current_revision, upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo(f"database at revision {current_revision(settings.database_url)}")


@app.command()
def seed() -> None:
    """Create the demo tenant with one API key per role and print the keys."""
    from cli.seed import seed_demo
    from db.engine import create_engine, create_session_factory

    settings = _settings()

    async def run() -> dict[Role, str]:
        engine = create_engine(settings)
        try:
            return await seed_demo(
                create_session_factory(engine), settings.data_dir / "demo-keys.json"
            )
        finally:
            await engine.dispose()

    for role, key in asyncio.run(run()).items():
        typer.echo(f"{role.value:<7} {key}")


@app.command()
def check() -> None:
    """Run the stack check workflow: Temporal, a worker and Postgres answer together."""
    from cli.check import run_stack_check

    try:
        result = asyncio.run(run_stack_check(_settings(), "oms check"))
    except Exception as error:
        typer.echo(f"stack check failed: {type(error).__name__}: {error}", err=True)
        _exit(1)
    typer.echo(
        f"ok: worker reached PostgreSQL {result.database.server_version}, "
        f"schema {result.database.schema_revision}"
    )
    _exit(0)


@app.command()
def schedules() -> None:
    """Create or update the Temporal Schedules (sweeps, inventory scan); safe to repeat."""
    from workflows.client import connect
    from workflows.schedules import ScanPlan, apply_schedules

    settings = _settings()

    async def run() -> list[str]:
        client = await connect(settings)
        return await apply_schedules(client, settings.temporal_task_queue, ScanPlan.of(settings))

    for schedule_id in asyncio.run(run()):
        typer.echo(f"schedule {schedule_id} is up to date")
    _exit(0)


@app.command()
def reconcile(
    tenant: Annotated[str | None, typer.Option(help="tenant slug; default: every tenant")] = None,
) -> None:
    """Check the stock invariants (DESIGN §5, 1-3 and 5 at an order's close); print every
    violation, exit 1 if any."""
    from sqlalchemy import text

    from db.engine import create_engine, create_session_factory
    from db.stock.reconcile import Violation, find_violations
    from db.tenants import get_tenant
    from domain.errors import DomainError

    settings = _settings()

    async def run() -> list[Violation]:
        # a sweep over every row: the worker's (longer) timeouts
        engine = create_engine(settings, worker=True)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                tenant_id = (await get_tenant(session, tenant)).id if tenant else None
                return await find_violations(session, tenant_id)
        finally:
            await engine.dispose()

    try:
        violations = asyncio.run(run())
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(2) from error
    for violation in violations:
        typer.echo(str(violation))
    scope = f"tenant {tenant}" if tenant else "all tenants"
    typer.echo(f"{len(violations)} violation(s) in {scope}")
    raise typer.Exit(1 if violations else 0)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="tenant slug; created when missing")],
    role: Annotated[Role, typer.Option(help="role of the key")],
    name: Annotated[str, typer.Option(help="what the key is for")] = "created by oms keys",
) -> None:
    """Create an API key and print it (shown once; only its hash is stored)."""
    from db.engine import create_engine, create_session_factory
    from db.tenants import create_api_key, ensure_tenant
    from domain.errors import DomainError

    settings = _settings()

    async def run() -> str:
        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                row = await ensure_tenant(session, tenant)
                issued = await create_api_key(session, row, role, name, created_by="cli")
                return issued.plaintext
        finally:
            await engine.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(2) from error


def main() -> None:
    app()


if __name__ == "__main__":
    main()
