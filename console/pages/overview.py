"""The overview: the first page after signing in. Each figure of GET /v1/overview
links to the list it counts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console.rendering import render
from console.session import OperatorDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, operator: OperatorDep) -> HTMLResponse:
    figures = await operator.api.get("/v1/overview")
    since = datetime.fromisoformat(figures["since"])
    return render(
        request,
        "overview.html",
        operator,
        active="/console/",
        figures=figures,
        created_from=since.date().isoformat(),
    )
