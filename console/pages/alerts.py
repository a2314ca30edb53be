"""Alerts: the open ones (or resolved, or all) by kind, what each is about and what to
do; roles that handle stock resolve one with a note."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Cursor, Keyword, Limit, RowId
from console.api_client import Refusal
from console.filters import Filter, given
from console.rendering import act, render
from console.session import FormDep, Operator, OperatorDep

router = APIRouter()

Status = Literal["open", "resolved", "all"]
STATUSES = [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]


async def _page(
    request: Request,
    operator: Operator,
    filters: dict[str, Any],
    *,
    status: int = 200,
    problem: Refusal | None = None,
    failed: int | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    page = await operator.api.get("/v1/alerts", filters)
    return render(
        request,
        "alerts.html",
        operator,
        active="/console/alerts",
        status=status,
        page=page,
        filters=filters,
        statuses=STATUSES,
        problem=problem,
        failed=failed,
        form=form or {},
    )


def _filters(
    kind: str | None, status: Status, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    return given(kind=kind, status=status, cursor=cursor, limit=limit)


@router.get("/alerts", response_class=HTMLResponse)
async def alerts(
    request: Request,
    operator: OperatorDep,
    kind: Filter[Keyword] = None,
    status: Status = "open",
    cursor: Filter[Cursor] = None,
    limit: Annotated[Filter[Limit], Query()] = None,
) -> HTMLResponse:
    return await _page(request, operator, _filters(kind, status, cursor, limit))


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    request: Request,
    alert_id: RowId,
    form: FormDep,
    operator: OperatorDep,
    kind: Filter[Keyword] = None,
    status: Status = "open",
    cursor: Filter[Cursor] = None,
    limit: Annotated[Filter[Limit], Query()] = None,
) -> Response:
    """Resolve with the form's note; back to the same list (its filters are the
    form's query string)."""
    filters = _filters(kind, status, cursor, limit)

    async def refused(problem: Refusal) -> Response:
        return await _page(
            request,
            operator,
            filters,
            status=problem.status,
            problem=problem,
            failed=alert_id,
            form=form.fields(),
        )

    query = f"?{request.url.query}" if request.url.query else ""
    return await act(
        request,
        operator.api.post(f"/v1/alerts/{alert_id}/resolve", {"resolution": form.get("resolution")}),
        done=f"Resolved alert {alert_id}.",
        then=f"/console/alerts{query}",
        refused=refused,
    )
