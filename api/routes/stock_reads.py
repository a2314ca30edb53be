"""The read side of stock: balances, availability and the movement ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Query

from api.deps import PrincipalDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.backorders import CoveredBy, IncomingPublic
from api.schemas.common import (
    Code,
    Cursor,
    CursorId,
    Identifier,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.inventory import (
    AvailabilityPublic,
    BalancePublic,
    LedgerEntry,
    OnHandHistoryPublic,
    PlacePublic,
    StockDayPublic,
    WarehouseAvailability,
)
from api.units import Units
from db.promise_dates import incoming_by_warehouse, promise_rules
from db.stock import queries
from db.stock.history import last_days, on_hand_history
from db.stock.lookups import Catalogue, units_of
from domain.stock import MovementType

router = api_router(prefix="/v1/inventory", tags=["inventory"])


def level_totals(display: Callable[[int], Decimal], row: queries.LevelRow) -> dict[str, Decimal]:
    """A stock level's quantities in display units."""
    return {
        "on_hand": display(row.on_hand),
        "reserved": display(row.reserved),
        "allocated": display(row.allocated),
        "available": display(row.available),
        "held": display(row.held),
        "in_transit": display(row.in_transit),
        "incoming": display(row.incoming),
    }


@router.get(
    "/balances",
    response_model=Page[BalancePublic],
    summary="Stock per warehouse and SKU, with its locations",
)
async def get_balances(
    principal: PrincipalDep,
    session: SessionDep,
    sku: Code | None = None,
    warehouse: WarehouseCode | None = None,
    location: Code | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[BalancePublic]:
    after = decode_cursor(cursor, tuple[Code, WarehouseCode])
    rows = await queries.stock_levels(
        session,
        principal.tenant_id,
        sku=sku,
        warehouse=warehouse,
        location=location,
        after=tuple(after) if after else None,
        limit=limit,
        today=datetime.now(UTC).date(),
    )
    units = Units(await units_of(session, principal.tenant_id, {r.sku for r in rows}))
    items = []
    for row in rows:
        d = units.of(row.sku).to_display
        items.append(
            BalancePublic(
                sku=row.sku,
                warehouse=row.warehouse,
                unit=units.of(row.sku).unit,
                **level_totals(d, row),
                locations=[
                    PlacePublic(
                        location=p.location,
                        lot=p.lot,
                        serial=p.serial,
                        expires_at=p.expires_on,
                        lot_status=p.lot_status,
                        on_hand=d(p.on_hand),
                        allocated=d(p.allocated),
                        available=d(p.available),
                    )
                    for p in row.places
                ],
            )
        )
    next_cursor = encode_cursor([rows[-1].sku, rows[-1].warehouse]) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/availability",
    response_model=AvailabilityPublic,
    summary="What can be promised of a SKU, per warehouse",
)
async def get_availability(
    sku: Code, principal: PrincipalDep, session: SessionDep, resources: ResourcesDep
) -> AvailabilityPublic:
    units = Units(await units_of(session, principal.tenant_id, {sku}))
    uom = units.of(sku)
    rows = await queries.stock_levels(
        session,
        principal.tenant_id,
        sku=sku,
        warehouse=None,
        location=None,
        after=None,
        limit=500,
        today=datetime.now(UTC).date(),
    )
    d = uom.to_display
    now = datetime.now(UTC)
    coming = await incoming_by_warehouse(
        session, principal.tenant_id, sku, promise_rules(resources.settings)
    )
    return AvailabilityPublic(
        sku=sku,
        unit=uom.unit,
        available=d(sum(r.available for r in rows)),
        items=[
            WarehouseAvailability(
                warehouse=r.warehouse,
                **level_totals(d, r),
                incoming_by_date=[
                    IncomingPublic(
                        expected_at=s.expected_at,
                        quantity=d(s.quantity),
                        source=CoveredBy.of(s.source),
                        late=s.expected_at < now,
                    )
                    for s in coming.get(r.warehouse, [])
                ],
            )
            for r in rows
        ],
    )


@router.get(
    "/movements", response_model=Page[LedgerEntry], summary="The movement ledger, newest first"
)
async def get_movements(
    principal: PrincipalDep,
    session: SessionDep,
    sku: Code | None = None,
    warehouse: WarehouseCode | None = None,
    type: MovementType | None = None,
    reference: Identifier | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[LedgerEntry]:
    rows = await queries.movements(
        session,
        principal.tenant_id,
        sku=sku,
        warehouse=warehouse,
        type=type,
        reference=reference,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    units = Units(await units_of(session, principal.tenant_id, {r.sku for r in rows}))
    items = [
        LedgerEntry(
            id=r.id,
            type=r.type,
            sku=r.sku,
            quantity=units.display(r.sku, r.quantity),
            from_location=r.from_location,
            to_location=r.to_location,
            lot=r.lot,
            serial=r.serial,
            warehouse=r.warehouse,
            reference_type=r.reference_type,
            reference_id=r.reference_id,
            actor=r.actor,
            reason=r.reason,
            created_at=r.created_at,
        )
        for r in rows
    ]
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/on-hand-history",
    response_model=OnHandHistoryPublic,
    summary="A SKU's on hand at the end of each of the last days, and each day's demand",
    description="Read from the movement ledger: every UTC day from `days - 1` days ago to "
    "today, on hand at the day's end (today: now) at `warehouse`, or at all warehouses "
    "without it, and the day's demand (shipped minus returned to stock, what the forecast "
    "reads). 404 for an unknown SKU or warehouse.",
)
async def get_on_hand_history(
    sku: Code,
    principal: PrincipalDep,
    session: SessionDep,
    warehouse: WarehouseCode | None = None,
    days: Annotated[int, Query(ge=1, le=366, description="how many days, today included")] = 30,
) -> OnHandHistoryPublic:
    uom = Units(await units_of(session, principal.tenant_id, {sku})).of(sku)
    if warehouse is not None:
        await Catalogue(session, principal.tenant_id).warehouse(warehouse, active_only=False)
    history = await on_hand_history(
        session,
        principal.tenant_id,
        sku=sku,
        warehouse=warehouse,
        window=last_days(datetime.now(UTC).date(), days),
    )
    d = uom.to_display
    return OnHandHistoryPublic(
        sku=sku,
        warehouse=warehouse,
        unit=uom.unit,
        days=[StockDayPublic(day=h.day, on_hand=d(h.on_hand), demand=d(h.demand)) for h in history],
    )
