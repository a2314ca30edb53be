"""Transfer stock operations on a real Postgres: ship (source out, in transit),
receive (in, partial, discrepancies written off), refusals that change nothing,
and concurrent receipts that never exceed what was shipped."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from domain.errors import DomainError, InvalidInput
from domain.stock import InvalidTransition
from domain.transfers import InFlightRecord, TransferReceiptLine
from tests.integration.stock_world import World, make_world
from tests.integration.transfer_helpers import receive, shipped_transfer


async def _ledger(world: World, number: str) -> list[tuple[str, str, int, str | None]]:
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT m.type, w.code, m.quantity, m.reason FROM movements m"
                " JOIN warehouses w ON w.id = m.warehouse_id"
                " WHERE m.tenant_id = :t AND m.reference_type = 'transfer'"
                " AND m.reference_id = :n ORDER BY m.id"
            ),
            {"t": world.tenant_id, "n": number},
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]


async def test_shipping_moves_stock_out_of_the_source_and_into_transit(world: World) -> None:
    await world.receive("WIDGET", 10)
    number, result = await shipped_transfer(world, "WIDGET", 6)
    assert result.stock == [InFlightRecord("WIDGET", None, 6, 0, 0)]
    assert await world.level("WIDGET", "WH1") == {
        "on_hand": 4,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 6,
        "incoming": 0,
    }
    assert await world.level("WIDGET", "WH2") == {
        "on_hand": 0,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 6,
    }
    assert await world.balance("WIDGET", "A1") == (4, 0)
    assert await _ledger(world, number) == [("transfer_out", "WH1", 6, None)]


async def test_partial_receipt_then_a_discrepancy_closes_the_transfer(world: World) -> None:
    await world.receive("BOLT", 10, lot="L1")
    number, _ = await shipped_transfer(world, "BOLT", 8, lot="L1")
    first = await receive(world, number, [TransferReceiptLine("BOLT", "L1", 5)])
    assert first.stock == [InFlightRecord("BOLT", "L1", 8, 5, 0)]
    assert (await world.level("BOLT", "WH1"))["in_transit"] == 3
    assert (await world.level("BOLT", "WH2"))["incoming"] == 3
    last = await receive(world, number, [TransferReceiptLine("BOLT", "L1", 2, "one crushed")])
    assert last.stock == [InFlightRecord("BOLT", "L1", 8, 7, 1)]
    assert await world.level("BOLT", "WH1") == {
        "on_hand": 2,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    assert await world.level("BOLT", "WH2") == {
        "on_hand": 7,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    assert await world.balance("BOLT", "A1", "WH2") == (7, 0)
    assert await _ledger(world, number) == [
        ("transfer_out", "WH1", 8, None),
        ("transfer_in", "WH2", 5, None),
        ("transfer_in", "WH2", 2, None),
        ("adjust", "WH2", 1, "transfer discrepancy: one crushed"),
    ]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([TransferReceiptLine("WIDGET", None, 7)], InvalidTransition),  # more than shipped
        ([TransferReceiptLine("GADGET", None, 1)], InvalidInput),  # not on this transfer
        ([TransferReceiptLine("WIDGET", "L9", 1)], InvalidInput),  # lot not shipped
        ([TransferReceiptLine("WIDGET", None, 0)], InvalidInput),  # nothing, no reason
        (
            [TransferReceiptLine("WIDGET", None, 2), TransferReceiptLine("WIDGET", None, 2)],
            InvalidInput,
        ),  # the same line twice
    ],
)
async def test_a_wrong_receipt_changes_nothing(
    world: World, lines: list[TransferReceiptLine], error: type[DomainError]
) -> None:
    await world.receive("WIDGET", 10)
    number, _ = await shipped_transfer(world, "WIDGET", 6)
    before = (await world.ledger_size(), await world.level("WIDGET", "WH2"))
    with pytest.raises(error):
        await receive(world, number, lines)
    assert (await world.ledger_size(), await world.level("WIDGET", "WH2")) == before


async def test_a_receipt_repeated_with_its_key_changes_nothing_the_second_time(
    world: World,
) -> None:
    await world.receive("WIDGET", 10)
    number, _ = await shipped_transfer(world, "WIDGET", 6)
    line = [TransferReceiptLine("WIDGET", None, 4)]
    first = await receive(world, number, line, key="rcv-1")
    again = await receive(world, number, line, key="rcv-1")
    assert again.replayed and again.stock == first.stock
    assert (await world.level("WIDGET", "WH2"))["on_hand"] == 4


async def test_concurrent_receipts_never_exceed_what_was_shipped(world: World) -> None:
    await world.receive("WIDGET", 10)
    number, _ = await shipped_transfer(world, "WIDGET", 10)
    outcomes = await asyncio.gather(
        *(receive(world, number, [TransferReceiptLine("WIDGET", None, 3)]) for _ in range(8)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(accepted) == 3
    assert all(isinstance(o, InvalidTransition) for o in refused)
    assert await world.level("WIDGET", "WH2") == {
        "on_hand": 9,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 1,
    }


async def test_reconcile_reports_in_transit_drift(sessions: object) -> None:
    world: World = await make_world(sessions)  # type: ignore[arg-type]
    await world.receive("WIDGET", 5)
    await shipped_transfer(world, "WIDGET", 5)
    assert await world.violations() == []
    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE transfer_stock SET received = 1 WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )
    found = {v.what for v in await world.violations()}
    assert found == {
        "in_transit differs from transfers outstanding from it",
        "incoming differs from transfers and open purchase orders outstanding to it",
    }
