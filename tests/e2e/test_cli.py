"""The `oms` command line, run as a user runs it (a subprocess)."""

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import unique
from tests.integration.stock_world import World

COMMANDS = [
    "dev",
    "api",
    "worker",
    "migrate",
    "seed",
    "check",
    "schedules",
    "reconcile",
    "keys",
    "keys create",
]


def oms(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = oms(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


async def test_keys_create_round_trip_through_the_api(
    database_url: str, api: httpx.AsyncClient
) -> None:
    tenant = unique("cli")
    result = oms(
        "keys",
        "create",
        "--tenant",
        tenant,
        "--role",
        "wms",
        env={"OMS_DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("oms_")

    me = await api.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["tenant"] == tenant
    assert me.json()["role"] == "wms"


def test_keys_create_refuses_an_unknown_role(database_url: str) -> None:
    result = oms(
        "keys", "create", "--tenant", "x", "--role", "root", env={"OMS_DATABASE_URL": database_url}
    )
    assert result.returncode == 2
    assert "'root' is not one of" in result.stderr


def test_keys_create_refuses_a_bad_tenant_slug(database_url: str) -> None:
    result = oms(
        "keys",
        "create",
        "--tenant",
        "Bad Tenant",
        "--role",
        "wms",
        env={"OMS_DATABASE_URL": database_url},
    )
    assert result.returncode == 2
    assert "lowercase" in result.stderr


def test_invalid_settings_are_reported_not_raised() -> None:
    result = oms("migrate", env={"OMS_DATABASE_URL": "sqlite:///x.db"})
    assert result.returncode == 2
    assert "invalid settings" in result.stderr
    assert "database_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_is_idempotent(database_url: str) -> None:
    first = oms("migrate", env={"OMS_DATABASE_URL": database_url})
    second = oms("migrate", env={"OMS_DATABASE_URL": database_url})
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert "database at revision" in second.stdout


async def test_reconcile_exits_0_when_the_books_are_right_and_1_with_drift(
    database_url: str, world: World
) -> None:
    await world.receive("WIDGET", 5)
    env = {"OMS_DATABASE_URL": database_url}
    clean = oms("reconcile", "--tenant", world.slug, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"0 violation(s) in tenant {world.slug}" in clean.stdout

    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE stock_levels SET on_hand = on_hand + 2 WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )
    drift = oms("reconcile", "--tenant", world.slug, env=env)
    assert drift.returncode == 1
    assert "stock level on_hand differs from its balances" in drift.stdout
    async with world.sessions() as session, session.begin():  # repair for the fixture's check
        await session.execute(
            text("UPDATE stock_levels SET on_hand = on_hand - 2 WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )


def test_reconcile_of_an_unknown_tenant_is_a_usage_error(database_url: str) -> None:
    result = oms("reconcile", "--tenant", "nobody-here", env={"OMS_DATABASE_URL": database_url})
    assert result.returncode == 2
    assert "does not exist" in result.stderr
