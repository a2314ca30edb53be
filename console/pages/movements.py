"""Movements: the stock ledger, newest first, narrowed by SKU, warehouse, movement
type or reference (read only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.schemas.common import Code, Cursor, Identifier, Limit, WarehouseCode
from console.filters import Filter, choices, given
from console.rendering import render
from console.session import OperatorDep
from domain.stock import MovementType

router = APIRouter()

TYPES = choices(MovementType, any_label="Any type")


@router.get("/movements", response_class=HTMLResponse)
async def movements(
    request: Request,
    operator: OperatorDep,
    sku: Filter[Code] = None,
    warehouse: Filter[WarehouseCode] = None,
    type: Filter[MovementType] = None,
    reference: Filter[Identifier] = None,
    cursor: Filter[Cursor] = None,
    limit: Annotated[Filter[Limit], Query()] = None,
) -> HTMLResponse:
    filters = given(
        sku=sku,
        warehouse=warehouse,
        type=type.value if type else None,
        reference=reference,
        cursor=cursor,
        limit=limit,
    )
    page = await operator.api.get("/v1/inventory/movements", filters)
    return render(
        request,
        "movements.html",
        operator,
        active="/console/movements",
        page=page,
        filters=filters,
        types=TYPES,
    )
