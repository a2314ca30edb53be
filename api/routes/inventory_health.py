"""Inventory health: status, quantities, thresholds and days of cover per SKU x
warehouse; a page of JSON, or the whole filtered result streamed as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Header, Query
from fastapi.responses import StreamingResponse

from api.deps import PrincipalDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.common import (
    Cursor,
    Keyword,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.replenishment import HEALTH_COLUMNS, HealthRowPublic, rate_in
from db.inventory_health import HealthFilter, HealthRow, Sort, health_page, stream_health
from domain.errors import InvalidInput
from domain.quantities import UnitOfMeasure
from domain.replenishment import StockStatus

router = api_router(prefix="/v1/inventory", tags=["inventory"])

_CSV = "text/csv"


def _public(row: HealthRow) -> HealthRowPublic:
    # display only: a unit's increments do not matter to convert base units back
    uom = UnitOfMeasure(row.uom_unit, row.base_units_per_unit)
    d = uom.to_display
    return HealthRowPublic(
        sku=row.sku,
        name=row.name,
        warehouse=row.warehouse,
        unit=row.uom_unit,
        status=row.status,
        available=d(row.available),
        on_hand=d(row.on_hand),
        reserved=d(row.reserved),
        allocated=d(row.allocated),
        held=d(row.held),
        incoming=d(row.incoming),
        low_stock_threshold=d(row.low_stock_threshold),
        reorder_point=d(row.reorder_point),
        safety_stock=d(row.safety_stock),
        max_stock=None if row.max_stock is None else d(row.max_stock),
        daily_demand=rate_in(uom, row.daily_demand),
        days_of_cover=None if row.days_of_cover is None else float(row.days_of_cover),
    )


def _csv_lines(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@router.get(
    "/health",
    response_model=Page[HealthRowPublic],
    summary="Inventory health per SKU and warehouse (JSON page, or all of it as CSV)",
    description="`status` is the first that holds: backordered (open order lines of the "
    "SKU wait and nothing is available here), out_of_stock, low_stock (available <= "
    "low_stock_threshold), overstock (on hand > max_stock), in_stock. `days_of_cover` is "
    "available / the average daily demand (shipped minus returned) of the history window. "
    "With `Accept: text/csv` or `format=csv` the whole filtered, sorted result is streamed "
    "as CSV (no paging), one header line with the JSON field names.",
    responses={200: {"content": {_CSV: {"example": ",".join(HEALTH_COLUMNS) + "\n"}}}},
)
async def get_health(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    q: Annotated[Keyword | None, Query(description="part of a SKU or an item name")] = None,
    warehouse: WarehouseCode | None = None,
    status: StockStatus | None = None,
    sort: Annotated[Sort, Query(description="a `-` prefix sorts descending")] = Sort.SKU,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
    format: Literal["json", "csv"] | None = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    which = HealthFilter(q=q, warehouse=warehouse, status=status, sort=sort)
    today, days = datetime.now(UTC).date(), resources.settings.demand_history_days
    if format == "csv" or (format is None and _CSV in (accept or "")):
        tenant_id = principal.tenant_id

        async def lines() -> AsyncIterator[str]:
            yield _csv_lines([HEALTH_COLUMNS])
            async with resources.sessions() as stream_session, stream_session.begin():
                batches = stream_health(
                    stream_session, tenant_id, which, today=today, history_days=days
                )
                async for batch in batches:
                    dumped = [_public(row).model_dump(mode="json") for row in batch]
                    yield _csv_lines([[r[c] for c in HEALTH_COLUMNS] for r in dumped])

        filename = f"inventory-health-{today.isoformat()}.csv"
        return StreamingResponse(
            lines(),
            media_type=_CSV,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    after = decode_cursor(cursor, tuple[Sort, str | int | float, str, WarehouseCode])
    if after is not None and after[0] is not sort:
        raise InvalidInput("cursor: from a listing with another sort", field="cursor")
    rows = await health_page(
        session,
        principal.tenant_id,
        which,
        after=list(after[1:]) if after else None,
        limit=limit,
        today=today,
        history_days=days,
    )
    next_cursor = (
        encode_cursor([sort.value, *rows[-1].cursor(sort)]) if len(rows) == limit else None
    )
    return Page(items=[_public(r) for r in rows], next_cursor=next_cursor)
