"""Inventory and alert events against a real PostgreSQL: each threshold crossing of a
SKU's `available` at a warehouse is written once, in the stock change's transaction
(none for a change rolled back or replayed); an alert raised twice is one event,
resolving it another."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from api.event_render import EventRenderer
from api.routes.alerts import _public
from db.alerts import NewAlert, list_alerts, raise_alert, resolve_alert, resolve_alerts
from db.stock.promising import release, reserve
from domain.stock import InsufficientStock, ReleaseReservation, ReserveLine, ReserveStock
from tests.conftest import unique
from tests.integration.event_helpers import feed, story
from tests.integration.stock_world import World

LOW, OUT, BACK = "inventory.low_stock", "inventory.out_of_stock", "inventory.back_in_stock"


async def _threshold(world: World, sku: str, threshold: int) -> None:
    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE items SET low_stock_threshold = :n WHERE tenant_id = :t AND sku = :s"),
            {"n": threshold, "t": world.tenant_id, "s": sku},
        )


async def _reserve_one(world: World, sku: str) -> int | None:
    command = ReserveStock([ReserveLine("WH1", sku, 1)], "order", unique("SO"))
    try:
        result = await reserve(world.sessions, world.caller(), command)
    except InsufficientStock:
        return None
    return result.reservations[0].id


async def test_each_crossing_under_concurrent_reservations_is_written_once_in_order(
    world: World,
) -> None:
    await _threshold(world, "WIDGET", 5)
    await world.receive("WIDGET", 20)
    taken = await asyncio.gather(*(_reserve_one(world, "WIDGET") for _ in range(24)))
    reservations = [r for r in taken if r is not None]
    assert len(reservations) == 20  # the 4 refused rolled back
    await asyncio.gather(
        *(release(world.sessions, world.caller(), ReleaseReservation(r)) for r in reservations[:10])
    )
    events = await feed(world.sessions, world.tenant_id, "inventory.*")
    assert story(events) == [
        (BACK, "WH1/WIDGET", 1),  # received from nothing
        (LOW, "WH1/WIDGET", 2),  # the reservation that left 5
        (OUT, "WH1/WIDGET", 3),  # the one that took the last
        (BACK, "WH1/WIDGET", 4),  # the first release; climbing past 5 makes no event
    ]
    assert [e.data["available"] for e in events] == [20, 5, 0, 1]
    rendered = await EventRenderer(world.sessions).envelopes(events[1:2])
    shown = rendered[0]["data"]
    assert (shown["sku"], shown["warehouse"], shown["unit"]) == ("WIDGET", "WH1", "ea")
    assert (shown["on_hand"], shown["reserved"], shown["available"]) == (20, 15, 5)


async def test_a_change_refused_on_another_line_writes_no_event(world: World) -> None:
    await world.receive("WIDGET", 2)
    await world.receive("WIDGET", 1, warehouse="WH2")
    both = ReserveStock(
        [ReserveLine("WH1", "WIDGET", 2), ReserveLine("WH2", "WIDGET", 5)], "order", "SO-X"
    )
    with pytest.raises(InsufficientStock):
        await reserve(world.sessions, world.caller(), both)
    assert (await world.level("WIDGET"))["reserved"] == 0
    events = await feed(world.sessions, world.tenant_id, OUT)
    assert events == []  # WIDGET would have run out, but the change rolled back


async def test_a_replayed_stock_operation_writes_no_second_event(world: World) -> None:
    await world.receive("WIDGET", 3)
    caller = world.caller(unique("same-key"))
    command = ReserveStock([ReserveLine("WH1", "WIDGET", 3)], "order", "SO-R")
    first = await reserve(world.sessions, caller, command)
    again = await asyncio.gather(*(reserve(world.sessions, caller, command) for _ in range(5)))
    assert all(r.replayed for r in again) and not first.replayed
    assert story(await feed(world.sessions, world.tenant_id)) == [
        (BACK, "WH1/WIDGET", 1),
        (OUT, "WH1/WIDGET", 2),
    ]


def _alert(world: World, key: str) -> NewAlert:
    return NewAlert(
        tenant_id=world.tenant_id,
        key=key,
        kind="transfer_in_transit",
        reference_type="transfer",
        reference_id="TR-1",
        message="in transit for 3 days",
    )


async def test_an_alert_raised_twice_is_one_event_and_resolving_it_another(world: World) -> None:
    alert = _alert(world, unique("overdue"))
    ids = await asyncio.gather(*(raise_alert(world.sessions, alert) for _ in range(4)))
    assert len(set(ids)) == 1
    assert await resolve_alerts(world.sessions, world.tenant_id, [alert.key], "arrived") == 1
    assert await resolve_alerts(world.sessions, world.tenant_id, [alert.key], "arrived") == 0
    await raise_alert(world.sessions, alert, reopen=True)  # the condition came back
    await raise_alert(world.sessions, alert, reopen=True)  # still open: nothing new
    async with world.sessions() as session, session.begin():
        await resolve_alert(session, world.tenant_id, ids[0], "found the pallet")
    events = await feed(world.sessions, world.tenant_id, "alert.*")
    subject = str(ids[0])
    assert story(events) == [
        ("alert.raised", subject, 1),
        ("alert.resolved", subject, 2),
        ("alert.raised", subject, 3),
        ("alert.resolved", subject, 4),
    ]
    assert [e.data["resolution"] for e in events] == [None, "arrived", None, "found the pallet"]
    async with world.sessions() as session:
        shown = _public(
            (
                await list_alerts(
                    session, world.tenant_id, open_only=False, kind=None, before=None, limit=1
                )
            )[0]
        )
    rendered = await EventRenderer(world.sessions).envelopes(events[-1:])
    assert rendered[0]["data"] == shown.model_dump(mode="json")
