"""The reads an order's stock steps make before their operations, one statement
per step (db/order_steps.py): the same answers through the call pool as through
the engine, what each step plans on, and a value the database refuses refused for
good either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from contracts.orders import KeyedIds, LineNeed, ReserveLinesInput
from db.alerts import raise_alert, staging_alert
from db.catalogue import create_warehouse
from db.engine import create_session_factory
from db.order_steps import allocation_places, line_reads
from db.refusals import refused_value
from db.stock.operation import Caller
from db.stock.promising import reserve
from domain.catalogue import LocationSpec, LocationType, WarehouseSpec
from domain.stock import ReserveLine, ReserveStock
from tests.conftest import unique
from tests.integration.stock_world import World

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


@pytest.fixture
async def engine_only(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of an engine without a call pool: every read runs through the engine."""
    engine = create_async_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


def _lines(world: World, key: str, lines: list[tuple[str, int]]) -> ReserveLinesInput:
    return ReserveLinesInput(
        tenant_id=world.tenant_id,
        key=key,
        order_number=unique("SO"),
        lines=[LineNeed(line_id=str(n), sku=sku, quantity=q) for n, (sku, q) in enumerate(lines)],
        preferred_warehouse=None,
        allow_split=False,
    )


async def test_the_step_reads_answer_the_same_through_the_engine_as_through_the_call_pool(
    world: World, engine_only: async_sessionmaker[AsyncSession]
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("WIDGET", 3, warehouse="WH2")
    await world.receive("MILK", 2, lot="OLD", expires_on=YESTERDAY)
    key = unique("reserve")
    command = ReserveStock([ReserveLine("WH2", "WIDGET", 2)], "order", "SO-1/0")
    first = await reserve(world.sessions, Caller(world.tenant_id, f"{key}/0", "test"), command)
    async with world.sessions() as session, session.begin():
        await create_warehouse(
            session,
            world.tenant_id,
            WarehouseSpec("WH3", "no staging", 3),
            [
                LocationSpec("WH3", "S1", LocationType.BIN),
                LocationSpec("WH3", "STAGE", LocationType.STAGING, active=False),
            ],
        )
    await world.receive("WIDGET", 1, warehouse="WH3", location="S1")
    there = await world.reserve("WIDGET", 1, warehouse="WH3")
    await raise_alert(world.sessions, staging_alert(world.tenant_id, "WH3"))

    skus = ["WIDGET", "WIDGET", "GADGET", "NO-SUCH-SKU", "MILK"]
    keys = [f"{key}/{n}" for n in range(len(skus))]
    [*reads] = await line_reads(world.sessions, world.tenant_id, "SO-2", keys, skus)
    assert reads == await line_reads(engine_only, world.tenant_id, "SO-2", keys, skus)
    replayed, widget, gadget, unknown, milk = reads
    assert replayed.recorded is not None
    assert replayed.recorded["reservations"][0]["id"] == first.reservations[0].id
    assert sorted((w.code, w.available) for w in widget.stock or []) == [
        ("WH1", 5),
        ("WH2", 1),
        ("WH3", 0),
    ]
    assert (gadget.policy, gadget.stock) == ("allow", [])
    assert (unknown.policy, unknown.stock) == (None, [])
    assert milk.stock is None  # a lot past expiry: read the long way

    ids = [first.reservations[0].id, there.id]
    places = await allocation_places(world.sessions, world.tenant_id, ids)
    assert places == await allocation_places(engine_only, world.tenant_id, ids)
    assert places.warehouses == {first.reservations[0].id: "WH2", there.id: "WH3"}
    assert (places.staging, places.unstaged, places.alerted) == ({"WH2": "STAGE"}, ["WH3"], {"WH3"})


async def test_two_lines_of_one_sku_are_planned_on_what_the_first_one_left(
    world: World,
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("WIDGET", 5, warehouse="WH2")
    data = _lines(world, unique("reserve"), [("WIDGET", 4), ("WIDGET", 4)])
    result = await ActivityEnvironment().run(OrderActivities(world.sessions).reserve_lines, data)
    assert [[(p.warehouse, p.quantity) for p in line.parts] for line in result.lines] == [
        [("WH1", 4)],
        [("WH2", 4)],
    ]
    assert [(await world.level("WIDGET", w))["reserved"] for w in ("WH1", "WH2")] == [4, 4]


@pytest.mark.parametrize("through", ["call pool", "engine"])
async def test_a_line_the_database_refuses_is_refused_for_good_whichever_way_it_is_read(
    world: World, engine_only: async_sessionmaker[AsyncSession], through: str
) -> None:
    sessions = world.sessions if through == "call pool" else engine_only
    data = _lines(world, unique("reserve"), [("WIDGET", 1), ("WID\x00GET", 1)])
    with pytest.raises(DBAPIError) as refused:
        await ActivityEnvironment().run(OrderActivities(sessions).reserve_lines, data)
    assert refused_value(refused.value) == (
        "PostgreSQL text fields cannot contain NUL (0x00) bytes"
    )
    assert (await world.level("WIDGET"))["reserved"] == 0


async def test_an_allocation_step_the_call_pool_cannot_serve_runs_through_the_engine(
    world: World, engine_only: async_sessionmaker[AsyncSession]
) -> None:
    await world.receive("WIDGET", 5)
    steps = OrderActivities(engine_only)
    reserved = await steps.reserve_lines(_lines(world, unique("reserve"), [("WIDGET", 2)]))
    ids = [part.reservation_id for part in reserved.lines[0].parts]
    keyed = KeyedIds(tenant_id=world.tenant_id, key=unique("allocate"), ids=ids)
    result = await steps.allocate_reservations(keyed)
    assert [(a.location, a.quantity) for a in result.allocations] == [("A1", 2)]
    assert (result.staging, result.unstaged) == ({"WH1": "STAGE"}, [])
