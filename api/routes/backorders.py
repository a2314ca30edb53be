"""The backorder list: every waiting order line, in the order it will be served,
with its promise date."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from api.deps import PrincipalDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.backorders import BackorderPublic, covered_by
from api.schemas.common import (
    Code,
    Cursor,
    Identifier,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.units import Units
from db.promise_dates import PromisedLine, ServingKey, backorder_page, promise_rules

router = api_router(prefix="/v1/backorders", tags=["orders"])


def backorder_public(promised: PromisedLine, units: Units) -> BackorderPublic:
    line, promise = promised.line, promised.promise
    return BackorderPublic(
        order_number=line.order_number,
        line_id=line.line_id,
        sku=line.sku,
        unit=units.of(line.sku).unit,
        customer_id=line.customer_id,
        priority=line.priority,
        ordered_at=line.ordered_at,
        backordered=units.display(line.sku, line.backordered),
        expected_at=promise.expected_at,
        covered_by=covered_by(promise.covered_by),
    )


@router.get(
    "",
    response_model=Page[BackorderPublic],
    summary="Backordered order lines in the order they will be served, with promise dates",
)
async def get_backorders(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    sku: Code | None = None,
    warehouse: Annotated[
        WarehouseCode | None,
        Query(
            description="lines promised from this warehouse's stock or supply (or, while "
            "nothing covers them, of orders that prefer it)"
        ),
    ] = None,
    customer_id: Identifier | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[BackorderPublic]:
    """Every order line with backordered units (whatever its order's overall status),
    by order priority (lowest first), then the oldest order, then line id: the order
    the backorder wake-up serves them in."""
    after: ServingKey | None = decode_cursor(cursor, ServingKey)
    lines, next_key = await backorder_page(
        session,
        principal.tenant_id,
        sku=sku,
        warehouse=warehouse,
        customer_id=customer_id,
        after=after,
        limit=limit,
        now=datetime.now(UTC),
        rules=promise_rules(resources.settings),
    )
    units = await Units.load_with(session, principal.tenant_id, {p.line.sku for p in lines})
    return Page(
        items=[backorder_public(p, units) for p in lines],
        next_cursor=encode_cursor(list(next_key)) if next_key else None,
    )
