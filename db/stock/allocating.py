"""Allocating a reservation: the reference implementation of `allocate`, which
turns reserved quantity into allocations at the locations and lots the item's
strategy chooses (domain/allocation.py `choose_stock`). What cannot be allocated
stays reserved (`shortfall`). The common case runs as one server-side call
(db/stock/promising.py `allocate`, migration 0016), which defers here for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Allocation, Item
from db.stock.candidates import candidates, free_stock
from db.stock.change import BalanceKey, Label, StockChange, lock_levels
from db.stock.operation import Caller, Operation, OperationContext, run_operations
from db.stock.reservations import locked_reservation, portion, reservation_record
from domain.allocation import Strategy, choose_stock
from domain.stock import AllocateReservation, AllocationRecord, AllocationResult


async def reference_allocate(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: AllocateReservation
) -> AllocationResult:
    """The reference: every case, every refusal worded."""
    (result,) = await run_operations(sessions, [allocate_operation(caller, command)])
    return result


def allocate_operation(caller: Caller, command: AllocateReservation) -> Operation[AllocationResult]:
    """Allocate (part of) a reservation: InvalidTransition when nothing is left."""

    async def body(ctx: OperationContext) -> AllocationResult:
        r = await locked_reservation(ctx, command.reservation_id)
        item = await ctx.session.get_one(Item, r.item_id)
        quantity = portion(command.quantity, r.quantity, "allocate", item.sku)
        warehouse_code = await ctx.catalogue.warehouse_code(r.warehouse_id)
        # Balances of this item and warehouse change only under its level lock.
        await lock_levels(ctx.session, ctx.tenant_id, [(r.warehouse_id, r.item_id)])
        pair = (r.warehouse_id, r.item_id)
        stock = (await free_stock(ctx.session, [pair], lot_id=r.lot_id))[pair]
        by_key = {s.candidate.balance_key: s for s in stock}
        # A pinned reservation already holds its lot; others may only take a lot's
        # stock that nobody else has reserved.
        lot_free = (
            {}
            if r.lot_id
            else {
                s.lot_id: s.lot_free
                for s in stock
                if s.lot_id is not None and s.lot_free is not None
            }
        )
        picks, shortfall = choose_stock(
            candidates(stock),
            quantity,
            Strategy(item.default_strategy),
            datetime.now(UTC).date(),
            lot_free,
        )
        change = StockChange(ctx.tenant_id)
        allocated = 0
        records = []
        for pick in picks:
            row = by_key[pick.candidate.balance_key]
            key = BalanceKey(
                r.warehouse_id, r.item_id, row.lot_id or 0, row.location_id, row.serial_id or 0
            )
            label = Label(0, item.sku, warehouse_code, row.location, row.lot_number)
            change.allocate(key, pick.quantity, label)
            allocation = Allocation(
                tenant_id=ctx.tenant_id,
                reservation_id=r.id,
                balance_id=row.balance_id,
                warehouse_id=r.warehouse_id,
                item_id=r.item_id,
                quantity=pick.quantity,
                status="allocated",
                reference_type=command.reference_type or r.source_type,
                reference_id=command.reference_id or r.source_id,
            )
            ctx.session.add(allocation)
            await ctx.session.flush()
            allocated += pick.quantity
            records.append(
                AllocationRecord(
                    allocation.id,
                    r.id,
                    warehouse_code,
                    row.location,
                    item.sku,
                    row.lot_number,
                    row.serial_number,
                    pick.quantity,
                    "allocated",
                )
            )
        if allocated:
            change.reserve(
                r.warehouse_id, r.item_id, r.lot_id, -allocated, Label(0, item.sku, warehouse_code)
            )
            r.quantity -= allocated
            if r.quantity == 0:
                r.status = "allocated"
        result = AllocationResult(await reservation_record(ctx, r), records, shortfall)
        await ctx.record(result, AllocationResult)
        await change.apply(ctx.session)
        return result

    return Operation(
        caller=caller,
        name="allocate",
        command=command,
        result_type=AllocationResult,
        body=body,
    )
