"""Inventory health: every SKU x warehouse with its status and quantities, filtered,
sorted and paged in the query string, and the same rows as a CSV download."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Cursor, Keyword, WarehouseCode
from console.filters import Filter, choices
from console.rendering import render
from console.session import Operator, OperatorDep
from db.inventory_health import Sort
from domain.replenishment import StockStatus

router = APIRouter()

HEALTH = "/v1/inventory/health"
SORTS = (
    (Sort.SKU, "SKU"),
    (Sort.SKU_DESC, "SKU, descending"),
    (Sort.AVAILABLE, "Available, lowest first"),
    (Sort.AVAILABLE_DESC, "Available, highest first"),
    (Sort.DAYS_OF_COVER, "Days of cover, fewest first"),
    (Sort.DAYS_OF_COVER_DESC, "Days of cover, most first"),
)


async def warehouse_codes(operator: Operator) -> list[str]:
    """The tenant's warehouse codes, for filters and forms."""
    page = await operator.api.get("/v1/warehouses")
    return [w["code"] for w in page["items"]]


def _filters(
    q: str | None, warehouse: str | None, status: StockStatus | None, sort: Sort | None
) -> dict[str, Any]:
    return {"q": q, "warehouse": warehouse, "status": status, "sort": sort}


Q = Annotated[Filter[Keyword], Query(description="part of a SKU or an item name")]


@router.get("/inventory", response_class=HTMLResponse)
async def inventory(
    request: Request,
    operator: OperatorDep,
    q: Q = None,
    warehouse: Filter[WarehouseCode] = None,
    status: Filter[StockStatus] = None,
    sort: Filter[Sort] = None,
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    filters = _filters(q, warehouse, status, sort)
    page = await operator.api.get(HEALTH, {**filters, "cursor": cursor, "limit": 50})
    return render(
        request,
        "inventory.html",
        operator,
        active="/console/inventory",
        page=page,
        filters={k: str(v) for k, v in filters.items() if v},
        warehouses=[("", "All warehouses")] + [(c, c) for c in await warehouse_codes(operator)],
        statuses=choices(StockStatus),
        sorts=[(s.value, label) for s, label in SORTS],
        csv_url=f"/console/inventory.csv{_query(filters)}",
    )


def _query(filters: dict[str, Any]) -> str:
    pairs = {k: str(v) for k, v in filters.items() if v}
    return f"?{urlencode(pairs)}" if pairs else ""


@router.get("/inventory.csv")
async def inventory_csv(
    operator: OperatorDep,
    q: Q = None,
    warehouse: Filter[WarehouseCode] = None,
    status: Filter[StockStatus] = None,
    sort: Filter[Sort] = None,
) -> Response:
    """The API's CSV export of the same filters, as a download."""
    answer = await operator.api.get_csv(HEALTH, _filters(q, warehouse, status, sort))
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "text/csv"),
        headers={"Content-Disposition": answer.headers["content-disposition"]},
    )
