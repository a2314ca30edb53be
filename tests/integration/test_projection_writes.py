"""The order projection's writes go straight through psycopg (a call-pool connection,
or the engine's when the pool cannot serve): the same rows and events either way,
one transaction per write, and psycopg's own errors told apart (retry or refusal)
exactly as SQLAlchemy's wrapped ones."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, replace

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from contracts.orders import OrderInput, OrderLineInput, OrderView
from db.call_pool import call_pool
from db.engine import create_session_factory
from db.events import record_events
from db.order_projection import OrderProjection
from db.refusals import refused_value
from domain.errors import NotFound
from domain.events import EventType, NewEvent
from domain.orders import OrderStatus, RequestStatus
from tests.integration.stock_world import World
from tests.integration.test_order_projection import _rows, _view, recorded_order
from tests.integration.test_unprocessable_steps import refusing

STEPS = [  # each version's (order status, request status)
    (OrderStatus.ALLOCATED, RequestStatus.REQUESTED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.PICKED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.PACKED),
]


def _life(order: OrderInput) -> list[OrderView]:
    return [
        replace(_view(order, version, 0, request.value), status=status)
        for version, (status, request) in enumerate(STEPS, start=1)
    ]


async def _events(world: World, number: str) -> list[tuple[object, ...]]:
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT type, subject_type, sequence FROM events WHERE tenant_id = :t"
                " AND (subject_id = :n OR subject_id LIKE :r) ORDER BY id"
            ),
            {"t": world.tenant_id, "n": number, "r": f"{number}-%"},
        )
        return [tuple(r) for r in rows]


def _without_number(rows: object, number: str) -> str:
    return repr(rows).replace(number, "N")


async def test_through_the_engine_when_no_call_pool_serves_the_rows_and_events_are_the_same(
    world: World, database_url: str
) -> None:
    plain: AsyncEngine = create_async_engine(database_url)  # no call pool beside it
    assert call_pool(plain) is None
    try:
        written = {}
        for label, sessions in (("pool", world.sessions), ("engine", _sessions(plain))):
            projection = OrderProjection(sessions)
            order = await recorded_order(projection, world)
            await projection.record(order, "order:again")  # a repeat changes nothing
            for view in _life(order):
                await projection.update(view)
            await projection.update(_life(order)[0])  # a late, older write: nothing
            number = order.order_number
            written[label] = _without_number(
                (await _rows(world.sessions, number), await _events(world, number)), number
            )
            missing = replace(
                order,
                order_number=f"SO-{uuid.uuid4().hex[:8]}",
                lines=[
                    *order.lines,
                    OrderLineInput(line_id="3", sku="NOPE", quantity=1, unit_price="1"),
                ],
            )
            with pytest.raises(NotFound) as caught:
                await projection.record(missing, "order:missing")
            assert (caught.value.detail, caught.value.field) == (
                "item 'NOPE' does not exist",
                "lines.2.sku",
            )
            assert (await _rows(world.sessions, missing.order_number))[0] is None
    finally:
        await plain.dispose()
    assert written["pool"] == written["engine"]
    assert "fulfillment_request.packed" in written["pool"]


def _sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


async def test_a_step_whose_events_the_database_refuses_changes_no_row_and_is_refused_for_good(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    projection = OrderProjection(sessions)
    order = await recorded_order(projection, world)
    first = _life(order)[0]
    async with refusing(sessions, world, "events", "22003") as lift:
        with pytest.raises(psycopg.Error) as caught:
            await projection.update(first)
        assert refused_value(caught.value) == "injected refusal (SQLSTATE 22003)"
        # the order row, its lines and requests roll back with the events
        assert await _rows(sessions, order.order_number) == (
            0,
            [("1", 0, 0, 0), ("2", 0, 0, 0)],
            [],
        )
        # the ship/pick activities log it and go on
        activities = OrderActivities(sessions)
        quietly = await ActivityEnvironment().run(activities._project_quietly, first)
        assert quietly.projected is False
        # the other writers of events still see SQLAlchemy's errors (their retries
        # and the API's answers read those)
        with pytest.raises(DBAPIError) as wrapped:
            async with sessions() as session, session.begin():
                event = NewEvent(
                    tenant_id=world.tenant_id,
                    type=EventType.ORDER_CREATED,
                    subject_id=order.order_number,
                    data={},
                )
                await record_events(session, [event])
        assert refused_value(wrapped.value) == "injected refusal (SQLSTATE 22003)"
        await lift()
        await projection.update(first)
    assert (await _rows(sessions, order.order_number))[0] == 1


RAISED = {"23514": "x (SQLSTATE 23514)", "23505": None, "40001": None, "40P01": None, "57014": None}


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        ("SELECT CAST(%(v)s AS text)", "PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        ("SELECT CAST(99999 AS smallint)", "smallint out of range (SQLSTATE 22003)"),
        (  # what a view holding a NUL is refused with
            'SELECT CAST(\'{"a": "\\u0000"}\' AS jsonb)',
            "unsupported Unicode escape sequence (SQLSTATE 22P05)",
        ),
        ("SELECT no_such_function()", None),  # 42883: a deploy fixes it
        ("SELECT * FROM no_such_table", None),  # 42P01: a migration not yet run
        *[
            (f"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{state}'; END $$", refused)
            for state, refused in RAISED.items()
        ],
    ],
)
async def test_psycopg_errors_count_as_refused_exactly_as_sqlalchemys_do(
    sessions: async_sessionmaker[AsyncSession], statement: str, refused: str | None
) -> None:
    params = {"v": "a\x00b"} if "%(v)s" in statement else {}
    pool = call_pool(sessions.kw["bind"])
    assert pool is not None
    with pytest.raises(psycopg.Error) as raw:
        async with pool.transaction() as conn:
            await conn.execute(statement, params)
    with pytest.raises(DBAPIError) as wrapped:
        async with sessions() as session:
            connection = await session.connection()
            await connection.exec_driver_sql(statement, params)
    assert refused_value(raw.value) == refused_value(wrapped.value) == refused


async def test_a_request_row_keeps_the_request_as_the_order_view_shows_it(world: World) -> None:
    projection = OrderProjection(world.sessions)
    order = await recorded_order(projection, world)
    view = _life(order)[-1]
    await projection.update(view)
    async with world.sessions() as session:
        stored = await session.scalar(
            text("SELECT view FROM fulfillment_requests WHERE tenant_id = :t AND id = :id"),
            {"t": world.tenant_id, "id": view.fulfillment_requests[0].id},
        )
    assert stored == json.loads(json.dumps(asdict(view.fulfillment_requests[0])))
