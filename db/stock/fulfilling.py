"""Allocated stock through the warehouse: pick (to staging), ship (consume),
put back (picked goods return to stock, unpromised); restock and scrap.

Pick, ship and put back are one server-side call each (migration 0016, through
db/stock/calls.py) for stock without a lot or a serial; anything else, and every
refusal, is the reference's (`reference_pick`, `reference_ship`,
`reference_put_back`). An order's warehouse step runs its picks or ships
together, kept whole or not at all (db/stock/steps.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Allocation, Item
from db.stock import calls
from db.stock.change import BalanceKey, Label, StockChange
from db.stock.on_hand import adjust, receive
from db.stock.operation import Caller, Operation, OperationContext, run_operation, run_operations
from db.stock.promising import allocation_record, balance_key, locked_allocation, place_of
from domain.errors import Amounts, InvalidInput
from domain.stock import (
    AdjustStock,
    AllocationResult,
    MovementsResult,
    MovementType,
    PickAllocation,
    PutBack,
    ReceiveStock,
    ShipAllocation,
)


async def _source_and_target(
    ctx: OperationContext, allocation: Allocation, to_location: str
) -> tuple[BalanceKey, BalanceKey]:
    """The allocation's balance and the same stock at `to_location` (same warehouse)."""
    place = await place_of(ctx, allocation.balance_id)
    source = place.key
    warehouse = await ctx.catalogue.warehouse(place.warehouse)
    location = await ctx.catalogue.location(warehouse, to_location, "to_location")
    if location.id == source.location_id:
        raise InvalidInput("the stock is already there", field="to_location")
    target = BalanceKey(
        source.warehouse_id, source.item_id, source.lot_id, location.id, source.serial_id
    )
    return source, target


_PICK = "SELECT oms_pick(%s::bigint, %s, %s, %s, %s::bigint, %s::bigint, %s)"
_SHIP = "SELECT oms_ship(%s::bigint, %s, %s, %s, %s::bigint)"
_PUT_BACK = "SELECT oms_put_back(%s::bigint, %s, %s, %s, %s::bigint, %s)"


async def pick(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: PickAllocation
) -> AllocationResult:
    """Pick: one server-side call, unless it deferred."""
    return await calls.call(
        sessions,
        caller,
        "pick",
        command,
        AllocationResult,
        _PICK,
        lambda digest: (
            *_keyed(caller, digest),
            command.allocation_id,
            command.quantity,
            command.to_location,
        ),
        lambda: reference_pick(sessions, caller, command),
    )


async def ship(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ShipAllocation
) -> AllocationResult:
    """Ship: one server-side call, unless it deferred."""
    return await calls.call(
        sessions,
        caller,
        "ship",
        command,
        AllocationResult,
        _SHIP,
        lambda digest: (*_keyed(caller, digest), command.allocation_id),
        lambda: reference_ship(sessions, caller, command),
    )


async def put_back(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: PutBack
) -> AllocationResult:
    """Put back: one server-side call, unless it deferred."""
    return await calls.call(
        sessions,
        caller,
        "put_back",
        command,
        AllocationResult,
        _PUT_BACK,
        lambda digest: (*_keyed(caller, digest), command.allocation_id, command.to_location),
        lambda: reference_put_back(sessions, caller, command),
    )


def _keyed(caller: Caller, digest: str) -> tuple[int, str, str, str]:
    """The parameters every fulfilment function starts with."""
    return caller.tenant_id, caller.idempotency_key, digest, caller.actor


async def reference_pick(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: PickAllocation
) -> AllocationResult:
    """The reference: every case, every refusal worded."""
    (result,) = await run_operations(sessions, [pick_operation(caller, command)])
    return result


def pick_operation(caller: Caller, command: PickAllocation) -> Operation[AllocationResult]:
    """Move allocated stock to a staging location, still allocated (now `picked`).
    Picking less than allocated is a short pick: the rest stays allocated where it
    was, for the caller to re-allocate or give back."""

    async def body(ctx: OperationContext) -> AllocationResult:
        a = await locked_allocation(ctx, command.allocation_id, "allocated")
        if not 0 < command.quantity <= a.quantity:
            q, sku = Amounts(), (await ctx.session.get_one(Item, a.item_id)).sku
            raise InvalidInput(
                f"quantity must be positive and at most the {q(sku, a.quantity)} allocated",
                field="quantity",
                amounts=q,
            )
        source, target = await _source_and_target(ctx, a, command.to_location)
        before = await allocation_record(ctx, a, command.quantity)
        label = Label(0, before.sku, before.warehouse, before.location, before.lot)
        change = StockChange(ctx.tenant_id)
        change.transfer_on_hand(source, target, command.quantity, label)
        change.allocate(source, -command.quantity, label)
        change.allocate(target, command.quantity, label)
        await ctx.movement(
            MovementType.PICK,
            warehouse_id=a.warehouse_id,
            item_id=a.item_id,
            quantity=command.quantity,
            from_location_id=source.location_id,
            to_location_id=target.location_id,
            lot_id=source.lot_id or None,
            serial_id=source.serial_id or None,
            reference_type=a.reference_type,
            reference_id=a.reference_id,
        )
        ids = await change.apply(ctx.session)
        a.quantity -= command.quantity
        if a.quantity == 0:
            a.status = "picked"  # all of it moved on to the new allocation at staging
        picked = Allocation(
            tenant_id=ctx.tenant_id,
            reservation_id=a.reservation_id,
            balance_id=ids[target],
            warehouse_id=a.warehouse_id,
            item_id=a.item_id,
            quantity=command.quantity,
            status="picked",
            reference_type=a.reference_type,
            reference_id=a.reference_id,
        )
        ctx.session.add(picked)
        await ctx.session.flush()
        result = AllocationResult(
            None,
            [
                await allocation_record(ctx, picked, picked.quantity),
                await allocation_record(ctx, a, a.quantity),
            ],
            shortfall=a.quantity,
        )
        await ctx.record(result, AllocationResult)
        return result

    return Operation(
        caller=caller, name="pick", command=command, result_type=AllocationResult, body=body
    )


async def reference_ship(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ShipAllocation
) -> AllocationResult:
    """The reference: every case, every refusal worded."""
    (result,) = await run_operations(sessions, [ship_operation(caller, command)])
    return result


def ship_operation(caller: Caller, command: ShipAllocation) -> Operation[AllocationResult]:
    """Picked stock leaves the warehouse: on_hand and allocated go down together."""

    async def body(ctx: OperationContext) -> AllocationResult:
        a = await locked_allocation(ctx, command.allocation_id, "picked")
        key = await balance_key(ctx, a)
        quantity = a.quantity
        record = await allocation_record(ctx, a, quantity)
        label = Label(0, record.sku, record.warehouse, record.location, record.lot)
        change = StockChange(ctx.tenant_id)
        change.allocate(key, -quantity, label)
        change.on_hand(key, -quantity, label)
        await ctx.movement(
            MovementType.SHIP,
            warehouse_id=a.warehouse_id,
            item_id=a.item_id,
            quantity=quantity,
            from_location_id=key.location_id,
            lot_id=key.lot_id or None,
            serial_id=key.serial_id or None,
            reference_type=a.reference_type,
            reference_id=a.reference_id,
        )
        a.quantity = 0
        a.status = "shipped"
        result = AllocationResult(None, [await allocation_record(ctx, a, quantity)])
        await ctx.record(result, AllocationResult)
        await change.apply(ctx.session)
        return result

    return Operation(
        caller=caller, name="ship", command=command, result_type=AllocationResult, body=body
    )


async def reference_put_back(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: PutBack
) -> AllocationResult:
    """Picked goods go back to a storage location as free stock (order canceled)."""

    async def body(ctx: OperationContext) -> AllocationResult:
        a = await locked_allocation(ctx, command.allocation_id, "picked")
        source, target = await _source_and_target(ctx, a, command.to_location)
        quantity = a.quantity
        record = await allocation_record(ctx, a, quantity)
        label = Label(0, record.sku, record.warehouse, record.location, record.lot)
        change = StockChange(ctx.tenant_id)
        change.allocate(source, -quantity, label)
        change.transfer_on_hand(source, target, quantity, label)
        await ctx.movement(
            MovementType.PUT_BACK,
            warehouse_id=a.warehouse_id,
            item_id=a.item_id,
            quantity=quantity,
            from_location_id=source.location_id,
            to_location_id=target.location_id,
            lot_id=source.lot_id or None,
            serial_id=source.serial_id or None,
            reference_type=a.reference_type,
            reference_id=a.reference_id,
        )
        a.quantity = 0
        a.status = "released"
        result = AllocationResult(None, [await allocation_record(ctx, a, quantity)])
        await ctx.record(result, AllocationResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "put_back", command, AllocationResult, body)


async def restock(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReceiveStock
) -> MovementsResult:
    """Returned goods back into stock (ledger type return_restock)."""
    restocked = ReceiveStock(
        command.warehouse,
        command.location,
        command.lines,
        command.reference,
        MovementType.RETURN_RESTOCK,
        reference_type="return",
    )
    return await receive(sessions, caller, restocked)


async def scrap(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: AdjustStock
) -> MovementsResult:
    """Stock destroyed (damaged, expired): taken out with a reason (ledger type scrap)."""
    if command.delta <= 0:
        raise InvalidInput("quantity to scrap must be positive", field="quantity")
    scrapped = AdjustStock(
        command.warehouse,
        command.location,
        command.sku,
        -command.delta,
        command.reason,
        command.lot,
        command.serials,
        MovementType.SCRAP,
    )
    return await adjust(sessions, caller, scrapped)
