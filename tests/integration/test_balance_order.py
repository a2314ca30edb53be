"""Balances that may run short are changed before those that grow: a serial moved
from where it is not is refused as the shortage at the source, whichever place sorts
first, and changes nothing; and that order never deadlocks."""

import asyncio
import logging
from datetime import date

import pytest

from db.stock.lot_holds import hold_lot
from db.stock.lots import LotStillPromised
from db.stock.on_hand import move
from domain.stock import HoldLot, InsufficientStock, MoveStock
from tests.integration.stock_world import World

FAR = date(2099, 1, 1)
ROUNDS = 10


@pytest.mark.parametrize(("holder", "empty"), [("A1", "A2"), ("A2", "A1")])
async def test_a_serial_moved_from_where_it_is_not_into_where_it_is_is_short_at_the_source(
    world: World, holder: str, empty: str
) -> None:
    await world.receive("PHONE", 1, location=holder, serials=["SN-1"])
    ledger = await world.ledger_size()

    with pytest.raises(InsufficientStock) as short:
        await move(
            world.sessions,
            world.caller(),
            MoveStock("WH1", empty, holder, "PHONE", 1, serials=["SN-1"]),
        )

    [shortage] = short.value.shortages
    assert (shortage.location, shortage.requested, shortage.available) == (empty, 1, 0)
    assert await world.balance("PHONE", holder) == (1, 0)
    assert await world.balance("PHONE", empty) == (0, 0)
    assert await world.ledger_size() == ledger


async def test_refused_holds_and_moves_of_the_lot_at_once_never_deadlock(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Balances are changed falls first, not in key order: what keeps two operations
    on the same balances from deadlocking is the level lock each takes first — also
    a hold the level refuses (it still changes balances before it reports)."""
    await world.receive("MILK", 20, location="A1", lot="L1", expires_on=FAR)
    await world.receive("MILK", 40, location="A2", lot="L1", expires_on=FAR)
    # allocations of the lot at both places, and a reservation that still needs it:
    # a hold would pull the allocations and is refused at the level
    reservation = await world.reserve("MILK", 24)
    allocated = await world.allocate(reservation.id)
    assert {a.location for a in allocated.allocations} == {"A1", "A2"}
    await world.reserve("MILK", 2)
    caplog.set_level(logging.INFO, logger="db.stock")
    hold = HoldLot(sku="MILK", lot="L1", reason="broken seal")

    async def move_one() -> None:
        # from A2 (free stock) into A1: the hold's falls come A1 first, the move's A2
        command = MoveStock("WH1", "A2", "A1", "MILK", 1, lot="L1")
        await move(world.sessions, world.caller(), command)

    for _ in range(ROUNDS):
        outcomes = await asyncio.gather(
            *(hold_lot(world.sessions, world.caller(), hold) for _ in range(3)),
            *(move_one() for _ in range(3)),
            return_exceptions=True,
        )
        unexpected = [o for o in outcomes if isinstance(o, BaseException)]
        assert all(isinstance(o, LotStillPromised) for o in unexpected), unexpected
        assert sum(isinstance(o, LotStillPromised) for o in outcomes) == 3
    # a deadlock is retried, and said: "<operation>: 40P01, retrying (attempt n)"
    assert [r.getMessage() for r in caplog.records if "40P01" in r.getMessage()] == []
    assert await world.balance("MILK", "A1") == (20 + 3 * ROUNDS, 20)
    assert await world.violations() == []
