"""Returns (RMAs): the list, one return, and its steps: approve or reject and close
(order roles), receive (warehouse roles). Every step is the API's own route."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Code, Cursor
from console.pages.forms import posted_lines, shown_again, status_options
from console.rendering import act, render
from console.session import Can, Form, FormDep, Operator, OperatorDep
from domain.returns import Disposition, ReturnStatus

router = APIRouter()

ACTIVE = "/console/returns"
STATUSES = status_options(ReturnStatus)
DISPOSITIONS = [(d.value, d.value) for d in Disposition]


@router.get("/returns", response_class=HTMLResponse)
async def returns(
    request: Request,
    operator: OperatorDep,
    status: ReturnStatus | None = None,
    cursor: Cursor | None = None,
) -> HTMLResponse:
    page = await operator.api.get(
        "/v1/returns", {"status": status.value if status else None, "cursor": cursor}
    )
    return render(
        request,
        "returns.html",
        operator,
        active=ACTIVE,
        page=page,
        statuses=STATUSES,
        chosen=status.value if status else "",
    )


async def _return_page(
    request: Request, operator: Operator, rma: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    answer = await operator.api.get(f"/v1/returns/{rma}")
    return render(
        request,
        "return.html",
        operator,
        status=status,
        active=ACTIVE,
        rma=answer,
        actions=_actions(operator.can, ReturnStatus(answer["status"])),
        dispositions=DISPOSITIONS,
        **context,
    )


def _actions(can: Can, status: ReturnStatus) -> frozenset[str]:
    """The forms to show: the steps this role may take at this status (the API
    decides; a form not shown is only not offered)."""
    steps = {
        ReturnStatus.REQUESTED: ("approve", "reject") if can.orders else (),
        ReturnStatus.APPROVED: ("receive",) if can.warehouse else (),
        ReturnStatus.RECEIVED: ("close",) if can.orders else (),
    }
    return frozenset(steps.get(status, ()))


@router.get("/returns/{rma}", response_class=HTMLResponse)
async def return_detail(request: Request, operator: OperatorDep, rma: Code) -> HTMLResponse:
    return await _return_page(request, operator, rma)


async def _step(
    request: Request, operator: Operator, form: Form, rma: str, step: str, body: Any, done: str
) -> Response:
    return await act(
        request,
        operator.api.post(f"/v1/returns/{rma}/{step}", body, idempotency_key=form.idempotency_key),
        done=done,
        then=f"{ACTIVE}/{rma}",
        refused=shown_again(partial(_return_page, request, operator, rma), form, step),
    )


@router.post("/returns/{rma}/approve")
async def approve(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    body = {"reason": form.get("approve-reason") or ""}
    return await _step(request, operator, form, rma, "approve", body, f"Approved return {rma}.")


@router.post("/returns/{rma}/reject")
async def reject(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    body = {"reason": form.get("reason") or ""}
    return await _step(request, operator, form, rma, "reject", body, f"Rejected return {rma}.")


@router.post("/returns/{rma}/receive")
async def receive(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    lines = posted_lines(
        form,
        ("line_id", "received", "accepted", "disposition", "lot"),
        filled=("received", "accepted"),
    )
    body = {"warehouse": form.get("warehouse"), "location": form.get("location"), "lines": lines}
    done = f"Recorded the receipt of return {rma}."
    return await _step(request, operator, form, rma, "receive", body, done)


@router.post("/returns/{rma}/close")
async def close(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    return await _step(request, operator, form, rma, "close", None, f"Closed return {rma}.")
