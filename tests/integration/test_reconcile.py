"""The reconcile function finds each kind of drift (so the clean reports of the
other tests mean something)."""

import pytest
from sqlalchemy import text

from db.inventory_scan import reconcile_tenant
from db.stock.promising import allocate, deallocate, release, reserve
from domain.orders import OrderStatus
from domain.stock import (
    AllocateReservation,
    Deallocate,
    ReleaseReservation,
    ReserveLine,
    ReserveStock,
)
from tests.integration.order_helpers import record_lines
from tests.integration.stock_world import World, make_world

CORRUPTIONS = {
    "stock level on_hand differs from its balances": (
        "UPDATE stock_levels SET on_hand = on_hand + 1 WHERE tenant_id = :t",
        2,
    ),
    "balance on_hand differs from its ledger": (
        "UPDATE movements SET quantity = quantity + 1 WHERE tenant_id = :t",
        2,
    ),
    "reserved differs from open reservations": (
        "UPDATE reservations SET quantity = quantity - 1 WHERE tenant_id = :t",
        3,
    ),
    "balance allocated differs from its open allocations": (
        "UPDATE allocations SET quantity = quantity - 1 WHERE tenant_id = :t",
        3,
    ),
    "lot level on_hand differs from its balances": (
        "UPDATE lot_levels SET on_hand = on_hand + 1 WHERE tenant_id = :t",
        2,
    ),
    "lot allocated differs from its balances": (
        "UPDATE lot_levels SET allocated = allocated - 1 WHERE tenant_id = :t",
        3,
    ),
    "stock level held differs from its balances in lots not available": (
        "UPDATE lots SET status = 'hold' WHERE tenant_id = :t",
        2,
    ),
}


@pytest.mark.parametrize("what", list(CORRUPTIONS))
async def test_reconcile_reports_drift(sessions: object, what: str) -> None:
    world: World = await make_world(sessions)  # type: ignore[arg-type]
    await world.receive("BOLT", 10, lot="L1")
    reserved = await reserve(
        world.sessions, world.caller(), ReserveStock([ReserveLine("WH1", "BOLT", 6)], "order")
    )
    await allocate(
        world.sessions, world.caller(), AllocateReservation(reserved.reservations[0].id, quantity=4)
    )
    assert await world.violations() == []

    statement, invariant = CORRUPTIONS[what]
    async with world.sessions() as session, session.begin():
        await session.execute(text(statement), {"t": world.tenant_id})

    found = await world.violations()
    assert what in {v.what for v in found}
    assert all(v.invariant == invariant for v in found if v.what == what)


async def test_reconcile_of_one_tenant_ignores_others(sessions: object) -> None:
    broken: World = await make_world(sessions)  # type: ignore[arg-type]
    clean: World = await make_world(sessions)  # type: ignore[arg-type]
    await broken.receive("WIDGET", 3)
    await clean.receive("WIDGET", 3)
    async with broken.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE stock_levels SET on_hand = 7 WHERE tenant_id = :t"),
            {"t": broken.tenant_id},
        )
    assert await clean.violations() == []
    assert len(await broken.violations()) == 1


CLOSED_ORDER = "stock still promised to a closed order"


async def test_a_closed_order_that_still_holds_stock_is_drift_naming_what_it_holds(
    sessions: object,
) -> None:
    """Invariant 5 at the close: a closed order holds nothing. The order number and
    the line id both hold a '/', and another order's number is this one's prefix:
    only the documents of this order's line are named, each with what it holds."""
    world: World = await make_world(sessions)  # type: ignore[arg-type]
    await world.receive("WIDGET", 10)
    number = f"SO/{world.tenant_id}"
    await record_lines(world, number, ["1/a"])
    held = await reserve(
        world.sessions,
        world.caller(),
        ReserveStock([ReserveLine("WH1", "WIDGET", 5)], "order", f"SO/{world.tenant_id}/1/a"),
    )
    reservation = held.reservations[0].id
    allocated = await allocate(
        world.sessions, world.caller(), AllocateReservation(reservation, quantity=2)
    )
    # stock of another order whose number starts like this one's, and of a line the
    # order does not have: never this order's
    await reserve(
        world.sessions,
        world.caller(),
        ReserveStock([ReserveLine("WH1", "WIDGET", 1)], "order", f"SO/{world.tenant_id}/1/b"),
    )
    assert await world.violations() == []  # open: it may hold stock

    await world.set_order_status(number, OrderStatus.CANCELED)
    found = [(v.invariant, v.where, v.expected, v.actual) for v in await world.violations()]
    named = f"(order SO/{world.tenant_id} line 1/a, canceled)"
    assert sorted(found) == [
        (5, f"allocation {allocated.allocations[0].id} {named}", 0, 2),
        (5, f"reservation {reservation} {named}", 0, 3),
    ]
    counts = await reconcile_tenant(world.sessions, world.tenant_id)
    assert (counts.raised, counts.drifts) == (1, 1)
    message = await _open_drift(world)
    assert message is not None and f"reservation {reservation} {named}" in message

    await release(world.sessions, world.caller(), ReleaseReservation(reservation))
    await deallocate(world.sessions, world.caller(), Deallocate(allocated.allocations[0].id))
    assert await world.violations() == []
    assert (await reconcile_tenant(world.sessions, world.tenant_id)).resolved == 1
    assert await _open_drift(world) is None


async def _open_drift(world: World) -> str | None:
    async with world.sessions() as session:
        found = await session.scalar(
            text(
                "SELECT message FROM alerts WHERE tenant_id = :t AND kind = 'reconciliation'"
                " AND key = :k AND resolved_at IS NULL"
            ),
            {"t": world.tenant_id, "k": f"reconciliation:{CLOSED_ORDER}"},
        )
    return None if found is None else str(found)
