"""A reservation inside a stock operation: locked (documents lock before stock
rows), the part of an open quantity a command takes, and its record."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Item, Lot, Reservation
from db.stock.operation import OperationContext
from domain.errors import Amounts, InvalidInput, NotFound
from domain.stock import InvalidTransition, ReservationRecord


async def locked_reservation(ctx: OperationContext, reservation_id: int) -> Reservation:
    reservation = await ctx.session.scalar(
        select(Reservation)
        .where(Reservation.id == reservation_id, Reservation.tenant_id == ctx.tenant_id)
        .with_for_update()
    )
    if reservation is None:
        raise NotFound(f"reservation {reservation_id} does not exist", field="reservation_id")
    return reservation


def portion(requested: int | None, open_quantity: int, what: str, sku: str) -> int:
    """What a command takes of an open quantity (None: all of it)."""
    if open_quantity == 0:
        raise InvalidTransition(f"nothing is left to {what}")
    quantity = open_quantity if requested is None else requested
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", field="quantity")
    if quantity > open_quantity:
        q = Amounts()
        raise InvalidInput(
            f"quantity {q(sku, quantity)} exceeds the {q(sku, open_quantity)} still open",
            field="quantity",
            amounts=q,
        )
    return quantity


async def reservation_record(ctx: OperationContext, r: Reservation) -> ReservationRecord:
    item = await ctx.session.get_one(Item, r.item_id)
    lot = await ctx.session.get(Lot, r.lot_id) if r.lot_id else None
    return ReservationRecord(
        r.id,
        await ctx.catalogue.warehouse_code(r.warehouse_id),
        item.sku,
        lot.lot_number if lot else None,
        r.requested,
        r.quantity,
        r.status,
    )
