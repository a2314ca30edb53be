"""An order's compensation gives back what the books hold for its lines, by
reference, and what its run's book knows; a reference another order's line spells
too is never taken from that order (order numbers and line ids may hold a '/').
The reconcile check reads references the same way."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from contracts.orders import OrderStockInput
from db.stock.promising import allocate, release, reserve
from domain.stock import AllocateReservation, ReleaseReservation, ReserveLine, ReserveStock
from tests.conftest import unique
from tests.integration.order_helpers import record_lines
from tests.integration.stock_world import World

CLOSED_ORDER = "stock still promised to a closed order"


async def _reserve(world: World, reference: str, quantity: int) -> int:
    done = await reserve(
        world.sessions,
        world.caller(),
        ReserveStock([ReserveLine("WH1", "WIDGET", quantity)], "order", reference),
    )
    return done.reservations[0].id


async def _give_back(world: World, number: str, lines: list[str], **known: list[int]) -> None:
    data = OrderStockInput(
        tenant_id=world.tenant_id,
        key=unique("give-back"),
        order_number=number,
        line_ids=lines,
        allocation_ids=known.get("allocations", []),
        reservation_ids=known.get("reservations", []),
    )
    await ActivityEnvironment().run(OrderActivities(world.sessions).give_back_order_stock, data)


async def test_what_the_books_hold_for_the_order_is_given_back_not_what_another_order_spells(
    world: World,
) -> None:
    await world.receive("WIDGET", 20)
    mine, other = f"G/{world.tenant_id}", f"G/{world.tenant_id}/1"
    await record_lines(world, mine, ["1/a", "2"])
    await record_lines(world, other, ["a"])  # spells mine's line 1/a too
    shared = await _reserve(world, f"{mine}/1/a", 3)
    own = await _reserve(world, f"{mine}/2", 5)
    await allocate(world.sessions, world.caller(), AllocateReservation(own, quantity=2))

    # the run's book knew nothing (a step refused after part of it committed)
    await _give_back(world, mine, ["1/a", "2"])
    assert await world.level("WIDGET") == {
        "on_hand": 20,
        "reserved": 3,  # the shared reference's, left to the other order
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    # what the book knows is given back whatever the reference spells
    await _give_back(world, mine, ["1/a", "2"], reservations=[shared, own])
    assert (await world.level("WIDGET"))["reserved"] == 0


async def test_a_reference_an_open_order_spells_too_is_not_reported_for_a_closed_one(
    world: World,
) -> None:
    await world.receive("WIDGET", 5)
    closed, open_ = f"R/{world.tenant_id}", f"R/{world.tenant_id}/1"
    await record_lines(world, closed, ["1/a"])
    await record_lines(world, open_, ["a"])
    reservation = await _reserve(world, f"{closed}/1/a", 2)
    await world.set_order_status(closed, "canceled")
    assert await world.violations() == []  # it may be the open order's
    await world.set_order_status(open_, "shipped")
    [found] = await world.violations()  # once, though both orders spell it
    assert (found.what, found.where.split(" (")[0]) == (CLOSED_ORDER, f"reservation {reservation}")
    await release(world.sessions, world.caller(), ReleaseReservation(reservation))
    assert await world.violations() == []
