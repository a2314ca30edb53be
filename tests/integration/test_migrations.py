import json
import uuid

from sqlalchemy import create_engine, inspect, text
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


def test_keying_requests_per_tenant_repairs_a_shared_request_row(
    postgres: EmbeddedPostgres,
) -> None:
    """Before 0007 a second tenant's request with the same id overwrote the first's
    row (keeping the first tenant) and got none of its own; 0007 rebuilds both from
    the orders' projected views."""
    url = _fresh_database(postgres)
    upgrade(url, "0006")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as db:
            a, b = (
                db.scalar(
                    text("INSERT INTO tenants (slug, name) VALUES (:s, :s) RETURNING id"),
                    {"s": slug},
                )
                for slug in ("a", "b")
            )
            request: dict[str, object] = {"id": "SO-1-WH1-1", "warehouse": "WH1"}
            views = {
                a: {**request, "status": "requested", "lines": [1]},
                b: {**request, "status": "picked", "lines": [3]},
            }
            orders = {}
            for tenant, view in views.items():
                orders[tenant] = db.scalar(
                    text(
                        "INSERT INTO orders (tenant_id, order_number, workflow_id, customer_id,"
                        " currency, status, fulfillment_policy, priority, allow_split,"
                        " payment_status, version, view) VALUES (:t, 'SO-1', :wf, 'C', 'EUR',"
                        " 'allocated', 'ship_partial', 100, true, 'authorized', 3,"
                        " CAST(:view AS jsonb)) RETURNING id"
                    ),
                    {
                        "t": tenant,
                        "wf": f"order:{tenant}:SO-1",
                        "view": json.dumps({"fulfillment_requests": [view]}),
                    },
                )
            # the damage: tenant a's row holding tenant b's view and status
            db.execute(
                text(
                    "INSERT INTO fulfillment_requests (id, tenant_id, order_id, workflow_id,"
                    " warehouse, status, view) VALUES ('SO-1-WH1-1', :t, :o, :wf, 'WH1',"
                    " 'picked', CAST(:view AS jsonb))"
                ),
                {"t": a, "o": orders[a], "wf": f"order:{a}:SO-1", "view": json.dumps(views[b])},
            )
        upgrade(url)
        with engine.connect() as db:
            rows = db.execute(
                text("SELECT tenant_id, order_id, status, view FROM fulfillment_requests")
            ).all()
    finally:
        engine.dispose()
    assert sorted((r.tenant_id, r.order_id, r.status, r.view["lines"]) for r in rows) == [
        (a, orders[a], "requested", [1]),
        (b, orders[b], "picked", [3]),
    ]
