"""Backorders: every waiting order line in the order it will be served, with its
promise date and what covers it (read only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.schemas.common import Code, Cursor, Identifier, Limit, WarehouseCode
from console.filters import Filter, given
from console.rendering import render
from console.session import OperatorDep

router = APIRouter()


@router.get("/backorders", response_class=HTMLResponse)
async def backorders(
    request: Request,
    operator: OperatorDep,
    sku: Filter[Code] = None,
    warehouse: Filter[WarehouseCode] = None,
    customer_id: Filter[Identifier] = None,
    cursor: Filter[Cursor] = None,
    limit: Annotated[Filter[Limit], Query()] = None,
) -> HTMLResponse:
    filters = given(
        sku=sku, warehouse=warehouse, customer_id=customer_id, cursor=cursor, limit=limit
    )
    page = await operator.api.get("/v1/backorders", filters)
    return render(
        request,
        "backorders.html",
        operator,
        active="/console/backorders",
        page=page,
        filters=filters,
    )
