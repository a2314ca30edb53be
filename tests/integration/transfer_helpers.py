"""Transfers in tests: one recorded, reserved, allocated and shipped through the
stock operations (the workflow's activities do the same steps)."""

from __future__ import annotations

from contracts.transfers import TransferInput, TransferLineInput
from db.stock.transfers import receive_transfer, ship_transfer
from db.transfers import TransferProjection
from domain.transfers import (
    ReceiveTransfer,
    ShipTransfer,
    TransferReceiptLine,
    TransferStockResult,
)
from tests.conftest import unique
from tests.integration.stock_world import World


async def shipped_transfer(
    world: World,
    sku: str,
    quantity: int,
    *,
    lot: str | None = None,
    source: str = "WH1",
    target: str = "WH2",
) -> tuple[str, TransferStockResult]:
    number = unique("TR")
    line = TransferLineInput(sku=sku, quantity=quantity, lot=lot)
    await TransferProjection(world.sessions).record(
        TransferInput(
            tenant_id=world.tenant_id,
            transfer_number=number,
            from_warehouse=source,
            to_warehouse=target,
            lines=[line],
        ),
        f"test:{number}",
    )
    reservation = await world.reserve(
        sku, quantity, warehouse=source, lot=lot, source_type="transfer", source_id=number
    )
    allocated = await world.allocate(reservation.id)
    result = await ship_transfer(
        world.sessions, world.caller(), ShipTransfer(number, [a.id for a in allocated.allocations])
    )
    return number, result


async def receive(
    world: World,
    number: str,
    lines: list[TransferReceiptLine],
    *,
    location: str = "A1",
    key: str | None = None,
) -> TransferStockResult:
    return await receive_transfer(
        world.sessions, world.caller(key), ReceiveTransfer(number, location, lines)
    )
