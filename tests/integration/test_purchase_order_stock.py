"""A purchase order's books against real Postgres: incoming with the lines, receipts
through the receipt operation in one transaction with the lines, the tolerance
under concurrent receipts, close short, and reconcile seeing a drift."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from contracts.purchasing import (
    ClosePurchaseOrderInput,
    PoLineInput,
    PoReceiveLineInput,
    PurchaseOrderInput,
    PurchaseOrderView,
    ReceivePurchaseOrderInput,
)
from db.stock.purchasing import (
    close_purchase_order,
    receive_purchase_order,
    record_purchase_order,
)
from domain.errors import DomainError, InvalidInput, NotFound
from domain.purchasing import OverReceipt, PurchaseOrderClosed, PurchaseOrderStatus
from tests.conftest import unique
from tests.integration.stock_world import World

DUE = datetime(2030, 1, 1, tzinfo=UTC)


async def _po(world: World, *lines: tuple[str, int], warehouse: str = "WH1") -> str:
    number = unique("PO")
    order = PurchaseOrderInput(
        tenant_id=world.tenant_id,
        po_number=number,
        supplier="ACME",
        warehouse=warehouse,
        lines=[
            PoLineInput(line_no=n + 1, sku=sku, quantity=q, expected_at=DUE + timedelta(days=n))
            for n, (sku, q) in enumerate(lines)
        ],
    )
    await record_purchase_order(world.sessions, world.caller(f"{number}/record"), order)
    return number


async def _receive(
    world: World, number: str, *lines: tuple[int, str, int], tolerance: str = "0"
) -> PurchaseOrderView:
    receipt = ReceivePurchaseOrderInput(
        location="A1",
        lines=[PoReceiveLineInput(line_no=no, sku=sku, quantity=q) for no, sku, q in lines],
    )
    return await receive_purchase_order(
        world.sessions, world.caller(), number, receipt, Decimal(tolerance)
    )


async def _lines(world: World, number: str) -> list[tuple[int, int, int]]:
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT l.line_no, l.ordered, l.received FROM purchase_order_lines l"
                " JOIN purchase_orders po ON po.id = l.purchase_order_id"
                " WHERE po.tenant_id = :t AND po.po_number = :n ORDER BY 1"
            ),
            {"t": world.tenant_id, "n": number},
        )
        return [(r.line_no, r.ordered, r.received) for r in rows]


async def test_recording_a_po_brings_its_lines_into_incoming_once(world: World) -> None:
    number = unique("PO")
    order = PurchaseOrderInput(
        tenant_id=world.tenant_id,
        po_number=number,
        supplier="ACME",
        warehouse="WH1",
        lines=[PoLineInput(line_no=1, sku="WIDGET", quantity=7, expected_at=DUE)],
    )
    caller = world.caller(f"{number}/record")
    first = await record_purchase_order(world.sessions, caller, order)
    again = await record_purchase_order(world.sessions, caller, order)  # an activity retry
    assert first.po_number == again.po_number == number
    assert (await world.level("WIDGET"))["incoming"] == 7


async def test_a_po_for_an_unknown_sku_or_an_inactive_item_records_nothing(world: World) -> None:
    with pytest.raises(NotFound) as unknown:
        await _po(world, ("WIDGET", 1), ("NOPE", 1))
    assert unknown.value.field == "lines.1.sku"
    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE items SET active = false WHERE tenant_id = :t AND sku = 'GADGET'"),
            {"t": world.tenant_id},
        )
    with pytest.raises(InvalidInput) as inactive:
        await _po(world, ("GADGET", 1))
    assert inactive.value.field == "lines.0.sku"
    assert (await world.level("WIDGET"))["incoming"] == 0
    async with world.sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM purchase_orders WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )
    assert count == 0


async def test_a_partial_receipt_moves_on_hand_received_and_incoming_together(
    world: World,
) -> None:
    number = await _po(world, ("WIDGET", 10), ("GADGET", 5))
    view = await _receive(world, number, (1, "WIDGET", 4))
    assert view.status is PurchaseOrderStatus.OPEN
    assert await _lines(world, number) == [(1, 10, 4), (2, 5, 0)]
    level = await world.level("WIDGET")
    assert (level["on_hand"], level["incoming"]) == (4, 6)
    assert await world.balance("WIDGET", "A1") == (4, 0)


async def test_over_receipt_within_the_tolerance_brings_nothing_more_into_incoming(
    world: World,
) -> None:
    number = await _po(world, ("WIDGET", 20))
    with pytest.raises(OverReceipt):
        await _receive(world, number, (1, "WIDGET", 22), tolerance="0.05")
    view = await _receive(world, number, (1, "WIDGET", 21), tolerance="0.05")
    assert view.status is PurchaseOrderStatus.RECEIVED
    level = await world.level("WIDGET")
    assert (level["on_hand"], level["incoming"]) == (21, 0)


async def test_an_over_receipt_is_refused_naming_the_line_and_records_nothing(
    world: World,
) -> None:
    number = await _po(world, ("WIDGET", 10), ("GADGET", 5))
    ledger = await world.ledger_size()
    with pytest.raises(OverReceipt) as refused:
        await _receive(world, number, (1, "WIDGET", 3), (2, "GADGET", 6))
    assert "lines.1 (PO line 2, GADGET)" in refused.value.detail
    assert "lines.0" not in refused.value.detail
    assert await _lines(world, number) == [(1, 10, 0), (2, 5, 0)]
    assert await world.ledger_size() == ledger
    assert (await world.level("WIDGET"))["on_hand"] == 0


async def test_two_concurrent_receipts_of_the_remaining_quantity_cannot_both_pass(
    world: World,
) -> None:
    number = await _po(world, ("WIDGET", 10))
    await _receive(world, number, (1, "WIDGET", 4))
    outcomes = await asyncio.gather(
        *(_receive(world, number, (1, "WIDGET", 6)) for _ in range(4)), return_exceptions=True
    )
    passed = [o for o in outcomes if isinstance(o, PurchaseOrderView)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(passed) == 1 and len(refused) == 3, outcomes
    assert all(isinstance(r, OverReceipt | PurchaseOrderClosed) for r in refused)
    assert await _lines(world, number) == [(1, 10, 10)]
    level = await world.level("WIDGET")
    assert (level["on_hand"], level["incoming"]) == (10, 0)


async def test_close_short_releases_what_is_outstanding_and_cancel_needs_nothing_received(
    world: World,
) -> None:
    number = await _po(world, ("WIDGET", 10))
    await _receive(world, number, (1, "WIDGET", 3))
    cancel = ClosePurchaseOrderInput(status=PurchaseOrderStatus.CANCELED, reason="no")
    with pytest.raises(PurchaseOrderClosed):
        await close_purchase_order(world.sessions, world.caller(), number, cancel)
    close = ClosePurchaseOrderInput(status=PurchaseOrderStatus.CLOSED, reason="supplier out")
    view = await close_purchase_order(world.sessions, world.caller(), number, close)
    assert view.status is PurchaseOrderStatus.CLOSED and view.reason == "supplier out"
    level = await world.level("WIDGET")
    assert (level["on_hand"], level["incoming"]) == (3, 0)
    with pytest.raises(PurchaseOrderClosed):  # closed: no more receipts
        await _receive(world, number, (1, "WIDGET", 1))


async def test_reconcile_names_incoming_that_drifted_from_the_open_pos(world: World) -> None:
    await _po(world, ("WIDGET", 10))
    assert await world.violations() == []
    async with world.sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE stock_levels SET incoming = incoming + 1 WHERE tenant_id = :t"
                " AND item_id = (SELECT id FROM items WHERE tenant_id = :t AND sku = 'WIDGET')"
            ),
            {"t": world.tenant_id},
        )
    [drift] = await world.violations()
    assert "open purchase orders" in str(drift)
    async with world.sessions() as session, session.begin():  # put it back for the fixture
        await session.execute(
            text(
                "UPDATE stock_levels SET incoming = incoming - 1 WHERE tenant_id = :t"
                " AND item_id = (SELECT id FROM items WHERE tenant_id = :t AND sku = 'WIDGET')"
            ),
            {"t": world.tenant_id},
        )
