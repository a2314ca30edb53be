"""Stock changes: receipts, adjustments, moves, cycle counts, reservations.
Every POST needs an Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal

from fastapi import Response

from api.deps import (
    ResourcesDep,
    StockIdempotencyKeyHeader,
    WmsWriterDep,
    caller_for,
)
from api.orders_service import wake_backorders
from api.routing import api_router
from api.schemas.common import RowId
from api.schemas.inventory import (
    AdjustmentCreate,
    AllocateBody,
    AllocationResultPublic,
    CycleCountCreate,
    CycleCountPublic,
    LotReleaseCreate,
    LotReleasePublic,
    MoveCreate,
    MovementsPublic,
    ReceiptCreate,
    ReleaseBody,
    ReservationCreate,
    ReservationPublic,
)
from api.units import Units
from db.stock import lots, on_hand, promising, queries
from domain.stock import (
    AdjustStock,
    AllocateReservation,
    CountLine,
    CycleCount,
    MovementsResult,
    MoveStock,
    ReceiptLine,
    ReceiveStock,
    ReleaseLot,
    ReleaseReservation,
    ReserveLine,
    ReserveStock,
)

router = api_router(prefix="/v1/inventory", tags=["inventory"])

REPLAYED = "Idempotent-Replayed"


def _mark(response: Response, replayed: bool) -> None:
    if replayed:
        response.headers[REPLAYED] = "true"


def _movements(units: Units, result: MovementsResult) -> MovementsPublic:
    return MovementsPublic(movements=[units.movement(m) for m in result.movements])


@router.post(
    "/receipts",
    response_model=MovementsPublic,
    status_code=201,
    summary="Receive stock at a location",
)
async def post_receipt(
    body: ReceiptCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> MovementsPublic:
    caller = caller_for(principal, key, required=True)
    units = await Units.load(
        resources.sessions, principal.tenant_id, (line.sku for line in body.lines)
    )
    lines = [
        ReceiptLine(
            sku=line.sku,
            quantity=units.stock(line.sku, line.quantity, f"lines.{n}.quantity", f"lines.{n}.sku"),
            lot=line.lot,
            expires_on=line.expires_at,
            manufactured_on=line.manufactured_at,
            serials=line.serials,
        )
        for n, line in enumerate(body.lines)
    ]
    command = ReceiveStock(body.warehouse, body.location, lines, body.reference)
    result = await on_hand.receive(resources.sessions, caller, command)
    _mark(response, result.replayed)
    await wake_backorders(resources, principal.tenant_id, {line.sku for line in lines})
    return _movements(units, result)


@router.post(
    "/adjustments",
    response_model=MovementsPublic,
    status_code=201,
    summary="Correct a location's stock up or down, with a reason",
)
async def post_adjustment(
    body: AdjustmentCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> MovementsPublic:
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, [body.sku])
    delta = units.stock(body.sku, body.delta, "delta")
    command = AdjustStock(
        body.warehouse, body.location, body.sku, delta, body.reason, body.lot, body.serials
    )
    async with units.shortages_as_problem():
        result = await on_hand.adjust(resources.sessions, caller, command)
    _mark(response, result.replayed)
    return _movements(units, result)


@router.post(
    "/moves",
    response_model=MovementsPublic,
    status_code=201,
    summary="Move free stock between two locations of a warehouse",
)
async def post_move(
    body: MoveCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> MovementsPublic:
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, [body.sku])
    quantity = units.stock(body.sku, body.quantity, "quantity")
    command = MoveStock(
        body.warehouse,
        body.from_location,
        body.to_location,
        body.sku,
        quantity,
        body.lot,
        body.serials,
    )
    async with units.shortages_as_problem():
        result = await on_hand.move(resources.sessions, caller, command)
    _mark(response, result.replayed)
    return _movements(units, result)


@router.post(
    "/cycle-counts",
    response_model=CycleCountPublic,
    status_code=201,
    summary="Record counted quantities; differences become reasoned adjustments",
)
async def post_cycle_count(
    body: CycleCountCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> CycleCountPublic:
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, (c.sku for c in body.counts))
    counts = [
        CountLine(
            c.sku, units.stock(c.sku, c.counted, f"counts.{n}.counted", f"counts.{n}.sku"), c.lot
        )
        for n, c in enumerate(body.counts)
    ]
    command = CycleCount(body.warehouse, body.location, counts, body.reason)
    async with units.shortages_as_problem():
        result = await on_hand.cycle_count(resources.sessions, caller, command)
    _mark(response, result.replayed)
    return CycleCountPublic(adjustments=[units.movement(m) for m in result.movements])


@router.post(
    "/reservations",
    response_model=ReservationPublic,
    status_code=201,
    summary="Reserve warehouse stock (409 listing what is short)",
)
async def post_reservation(
    body: ReservationCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> ReservationPublic:
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, [body.sku])
    quantity = units.demand(body.sku, body.quantity, "quantity")
    line = ReserveLine(body.warehouse, body.sku, quantity, body.lot)
    command = ReserveStock([line], body.source_type, body.source_id, body.expires_at)
    async with units.shortages_as_problem():
        result = await promising.reserve(resources.sessions, caller, command)
    _mark(response, result.replayed)
    return units.reservation(result.reservations[0])


async def _reservation_portion(
    resources: ResourcesDep, tenant_id: int, reservation_id: int, quantity: Decimal | None
) -> tuple[Units, str, int | None]:
    """The units of a reservation's SKU, the SKU, and `quantity` in base units."""
    async with resources.sessions() as session:
        sku = await queries.reservation_sku(session, tenant_id, reservation_id)
    units = await Units.load(resources.sessions, tenant_id, [sku])
    base = None if quantity is None else units.stock(sku, quantity, "quantity")
    return units, sku, base


@router.post(
    "/reservations/{reservation_id}/release",
    response_model=ReservationPublic,
    summary="Release a reservation (all of it, or `quantity`)",
)
async def post_release(
    reservation_id: RowId,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    body: ReleaseBody | None = None,
    key: StockIdempotencyKeyHeader = None,
) -> ReservationPublic:
    caller = caller_for(principal, key, required=True)
    units, _, quantity = await _reservation_portion(
        resources, principal.tenant_id, reservation_id, body.quantity if body else None
    )
    result = await promising.release(
        resources.sessions, caller, ReleaseReservation(reservation_id, quantity)
    )
    _mark(response, result.replayed)
    return units.reservation(result.reservations[0])


@router.post(
    "/reservations/{reservation_id}/allocate",
    response_model=AllocationResultPublic,
    summary="Allocate a reservation to locations and lots by the item's strategy",
)
async def post_allocate(
    reservation_id: RowId,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    body: AllocateBody | None = None,
    key: StockIdempotencyKeyHeader = None,
) -> AllocationResultPublic:
    caller = caller_for(principal, key, required=True)
    units, sku, quantity = await _reservation_portion(
        resources, principal.tenant_id, reservation_id, body.quantity if body else None
    )
    result = await promising.allocate(
        resources.sessions, caller, AllocateReservation(reservation_id, quantity)
    )
    _mark(response, result.replayed)
    return units.allocation_result(result, sku)


@router.post(
    "/lot-releases",
    response_model=LotReleasePublic,
    status_code=201,
    summary="Release a lot on hold or in quarantine (inspection passed, repair done)",
)
async def post_lot_release(
    body: LotReleaseCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> LotReleasePublic:
    """Its on-hand stock stops being held and becomes available at every warehouse;
    orders waiting for the item are woken."""
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, [body.sku])
    result = await lots.release_lot(
        resources.sessions, caller, ReleaseLot(body.sku, body.lot, body.reason)
    )
    _mark(response, result.replayed)
    await wake_backorders(resources, principal.tenant_id, {body.sku})
    return LotReleasePublic(
        sku=result.sku,
        lot=result.lot,
        previous_status=result.previous_status,
        released={code: units.display(body.sku, q) for code, q in result.released.items()},
    )
