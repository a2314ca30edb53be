"""Held stock (lots on hold or in quarantine) is on hand but never promised, under
concurrent callers, and a release makes it available exactly once."""

from __future__ import annotations

import asyncio

import pytest

from db.stock.lots import release_lot
from db.stock.on_hand import adjust as adjust_stock
from db.stock.returns import receive_return
from domain.errors import Conflict
from domain.stock import (
    AdjustStock,
    InsufficientStock,
    ReceiveReturn,
    ReleaseLot,
    ReturnReceiptLine,
)
from tests.integration.stock_world import World


async def _reserve_one(world: World) -> bool:
    try:
        await world.reserve("WIDGET", 1)
    except InsufficientStock:
        return False
    return True


async def _held(world: World, quantity: int) -> str:
    """`quantity` WIDGET come back for repair: a lot on hold at WH1/A1."""
    line = ReturnReceiptLine("1", "WIDGET", quantity, quantity, "repair")
    await receive_return(
        world.sessions, world.caller(), ReceiveReturn(0, "T1", "WH1", "A1", [line])
    )
    return "RMA-T1-R"  # RMA "T1", repair


async def test_held_units_are_never_reserved_under_concurrency(world: World) -> None:
    await world.receive("WIDGET", 5)
    lot = await _held(world, 3)
    assert ((await world.level("WIDGET"))["on_hand"], await world.held("WIDGET")) == (8, 3)

    granted = await asyncio.gather(*(_reserve_one(world) for _ in range(12)))
    assert sum(granted) == 5  # the 3 held units were never promised

    # a release racing with more reservations: the 3 become available once
    release = release_lot(world.sessions, world.caller(), ReleaseLot("WIDGET", lot, "repaired"))
    released, *racing = await asyncio.gather(release, *(_reserve_one(world) for _ in range(12)))
    assert released.released == {"WH1": 3}  # type: ignore[attr-defined]
    late = sum(bool(r) for r in racing)
    assert late <= 3
    for _ in range(3 - late):
        assert await _reserve_one(world)
    assert not await _reserve_one(world)
    assert ((await world.level("WIDGET"))["reserved"], await world.held("WIDGET")) == (8, 0)

    with pytest.raises(Conflict):  # released once; another key cannot release it again
        await release_lot(world.sessions, world.caller(), ReleaseLot("WIDGET", lot, "again"))


async def test_stock_changes_in_a_held_lot_racing_its_release_keep_held_exact(
    world: World,
) -> None:
    """Adjustments into and out of a held lot while it is released: each is counted
    as held or as available by the status it saw under the lot's lock, never both."""
    lot = await _held(world, 10)

    async def adjust(delta: int) -> None:
        command = AdjustStock("WH1", "A1", "WIDGET", delta, "count correction", lot)
        await adjust_stock(world.sessions, world.caller(), command)

    deltas = [1, -1, 2, -2, 1, -1, 3, -1] * 2
    await asyncio.gather(
        release_lot(world.sessions, world.caller(), ReleaseLot("WIDGET", lot, "repaired")),
        *(adjust(d) for d in deltas),
    )
    assert await world.held("WIDGET") == 0
    assert (await world.level("WIDGET"))["on_hand"] == 10 + sum(deltas)
    assert await world.violations() == []
