"""The overview: the first page after signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console.rendering import render
from console.session import OperatorDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, operator: OperatorDep) -> HTMLResponse:
    return render(request, "overview.html", operator, active="/console/")
