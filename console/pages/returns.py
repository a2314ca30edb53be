"""Returns (RMAs): the list, one return, and its steps: approve or reject and close
(order roles), receive (warehouse roles). Every step is the API's own route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Code, Cursor
from console.filters import Filter
from console.pages.forms import StatusList, Steps, posted_lines
from console.rendering import render
from console.session import Can, FormDep, Operator, OperatorDep
from domain.returns import Disposition, ReturnStatus

router = APIRouter()

ACTIVE = "/console/returns"
LIST = StatusList(api="/v1/returns", template="returns.html", active=ACTIVE, statuses=ReturnStatus)
DISPOSITIONS = [(d.value, d.value) for d in Disposition]


@router.get("/returns", response_class=HTMLResponse)
async def returns(
    request: Request,
    operator: OperatorDep,
    status: Filter[ReturnStatus] = None,
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    return await LIST.show(request, operator, status, cursor)


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


STEPS = Steps(api="/v1/returns", url=ACTIVE, page=_return_page)


@router.post("/returns/{rma}/approve")
async def approve(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    body = {"reason": form.get("approve-reason") or ""}
    return await STEPS.take(
        request, operator, form, key=rma, step="approve", body=body, done=f"Approved return {rma}."
    )


@router.post("/returns/{rma}/reject")
async def reject(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    body = {"reason": form.get("reason") or ""}
    return await STEPS.take(
        request, operator, form, key=rma, step="reject", body=body, done=f"Rejected return {rma}."
    )


@router.post("/returns/{rma}/receive")
async def receive(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    lines = posted_lines(
        form,
        ("line_id", "received", "accepted", "disposition", "lot"),
        filled=("received", "accepted"),
    )
    body = {"warehouse": form.get("warehouse"), "location": form.get("location"), "lines": lines}
    done = f"Recorded the receipt of return {rma}."
    return await STEPS.take(request, operator, form, key=rma, step="receive", body=body, done=done)


@router.post("/returns/{rma}/close")
async def close(request: Request, operator: OperatorDep, form: FormDep, rma: Code) -> Response:
    return await STEPS.take(
        request, operator, form, key=rma, step="close", body=None, done=f"Closed return {rma}."
    )
