"""Alembic, driven from code: `oms migrate`, the dev stack and the tests use this."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Running it again changes nothing."""
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def _scripts() -> ScriptDirectory:
    """This code's migrations, read once per process (a readiness probe asks often)."""
    return ScriptDirectory.from_config(alembic_config("postgresql+psycopg://"))


def head_revision() -> str | None:
    return _scripts().get_current_head()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database's schema is at; None when it was never migrated."""
    async with engine.connect() as connection:
        if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
            return None
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision else None


def behind_head(revision: str | None) -> str | None:
    """What is wrong when the schema is at `revision` for this code; None when it is at
    the code's head or past it: a revision this code does not know that sorts after
    its head (the ids are zero-padded numbers), which a newer release's `oms migrate`
    wrote (its replicas roll out beside this one's, or its code was rolled back).
    Migrations keep the schema usable by the release before (README, Production)."""
    head = head_revision()
    if revision is None:
        return "schema not migrated: run `oms migrate`"
    if revision == head:
        return None
    try:
        known = _scripts().get_revision(revision) is not None
    except CommandError:  # not one of this code's revisions
        known = False
    if known:
        return f"schema at {revision}, code expects {head}: run `oms migrate`"
    if head is not None and len(revision) == len(head) and revision > head:
        return None
    return f"schema at {revision}, a revision this code does not know (its head is {head})"


def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
