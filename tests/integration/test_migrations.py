import uuid

from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from cli.embedded import EmbeddedPostgres
from db.migrate import current_revision, head_revision, upgrade
from db.models import Base


def _fresh_database(postgres: EmbeddedPostgres) -> str:
    name = f"oms_migrations_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    return postgres.url(name)


def test_migrations_bring_an_empty_database_to_head(postgres: EmbeddedPostgres) -> None:
    url = _fresh_database(postgres)
    assert current_revision(url) is None

    upgrade(url)

    assert current_revision(url) == head_revision()
    engine = create_engine(url, poolclass=NullPool)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_migrating_twice_changes_nothing(postgres: EmbeddedPostgres) -> None:
    url = _fresh_database(postgres)
    upgrade(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        before = {t: inspect(engine).get_columns(t) for t in inspect(engine).get_table_names()}
        upgrade(url)
        after = {t: inspect(engine).get_columns(t) for t in inspect(engine).get_table_names()}
    finally:
        engine.dispose()
    assert current_revision(url) == head_revision()
    assert repr(before) == repr(after)


def test_migrations_match_the_models(postgres: EmbeddedPostgres) -> None:
    """The schema Alembic builds is the one the SQLAlchemy models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = _fresh_database(postgres)
    upgrade(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(postgres: EmbeddedPostgres) -> None:
    from alembic import command

    from db.migrate import alembic_config

    url = _fresh_database(postgres)
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
