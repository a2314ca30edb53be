"""A warehouse that cannot stage picked goods: allocation there waits (the reservation
stays) and a `setup` alert says why, resolved once the warehouse can stage."""

from __future__ import annotations

from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from contracts.orders import KeyedIds
from db.catalogue import create_location, create_warehouse
from domain.catalogue import LocationSpec, LocationType, WarehouseSpec, with_staging
from tests.conftest import unique
from tests.integration.stock_world import World


async def _setup_alerts(world: World) -> list[tuple[str, str, bool]]:
    """(reference, message, open) of the tenant's setup alerts."""
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT reference_id, message, resolved_at IS NULL FROM alerts"
                " WHERE tenant_id = :t AND kind = 'setup' ORDER BY id"
            ),
            {"t": world.tenant_id},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_a_new_warehouse_gets_a_staging_area_unless_it_has_one() -> None:
    bins = [LocationSpec("W", "A1", LocationType.BIN), LocationSpec("W", "STAGE", LocationType.BIN)]
    added = with_staging("W", bins)
    assert added[:2] == bins
    assert (added[2].code, added[2].type, added[2].is_pickable) == (
        "STAGE-2",
        LocationType.STAGING,
        False,
    )
    own = [LocationSpec("W", "OUT", LocationType.STAGING)]
    assert with_staging("W", own) == own
    assert [(x.code, x.type) for x in with_staging("W", [])] == [("STAGE", LocationType.STAGING)]


async def test_allocation_where_nothing_can_be_staged_waits_with_a_setup_alert(
    world: World,
) -> None:
    inactive = LocationSpec("WH3", "STAGE", LocationType.STAGING, active=False)
    async with world.sessions() as session, session.begin():
        await create_warehouse(
            session,
            world.tenant_id,
            WarehouseSpec("WH3", "no staging", 0),
            [LocationSpec("WH3", "S1", LocationType.BIN), inactive],
        )
    await world.receive("WIDGET", 5, warehouse="WH3", location="S1")
    await world.receive("WIDGET", 5)
    there = await world.reserve("WIDGET", 2, warehouse="WH3")
    here = await world.reserve("WIDGET", 3)
    allocate = OrderActivities(world.sessions).allocate_reservations
    env = ActivityEnvironment()

    def step(*ids: int) -> KeyedIds:
        return KeyedIds(tenant_id=world.tenant_id, key=unique("allocate"), ids=list(ids))

    result = await env.run(allocate, step(there.id, here.id))
    assert result.unstaged == ["WH3"]
    assert [(a.reservation_id, a.quantity) for a in result.allocations] == [(here.id, 3)]
    assert result.staging == {"WH1": "STAGE"}
    assert (await world.level("WIDGET", "WH3"))["reserved"] == 2  # still promised, waiting
    [(reference, message, is_open)] = await _setup_alerts(world)
    assert (reference, is_open) == ("WH3", True)
    assert "WH3 has no active staging location" in message
    await env.run(allocate, step(there.id))  # raised once per warehouse, not per try
    assert len(await _setup_alerts(world)) == 1

    async with world.sessions() as session, session.begin():
        await create_location(
            session, world.tenant_id, LocationSpec("WH3", "PACK", LocationType.STAGING)
        )
    result = await env.run(allocate, step(there.id))
    assert (result.unstaged, result.staging) == ([], {"WH3": "PACK"})
    assert [(a.reservation_id, a.quantity) for a in result.allocations] == [(there.id, 2)]
    assert [(r, is_open) for r, _, is_open in await _setup_alerts(world)] == [("WH3", False)]

    # The lack comes back: the same alert opens again.
    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE locations SET active = false WHERE tenant_id = :t AND code = 'PACK'"),
            {"t": world.tenant_id},
        )
    again = await world.reserve("WIDGET", 1, warehouse="WH3")
    assert (await env.run(allocate, step(again.id))).unstaged == ["WH3"]
    assert [(r, is_open) for r, _, is_open in await _setup_alerts(world)] == [("WH3", True)]
