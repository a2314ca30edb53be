"""Transfers between warehouses: the list, one transfer, and the warehouse's steps
(ship, receive, cancel). Every step is the API's own route, as the signed-in key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Code, Cursor
from console.filters import Filter
from console.pages.forms import StatusList, Steps, posted_lines
from console.rendering import render
from console.session import Can, FormDep, Operator, OperatorDep
from domain.transfers import TransferStatus

router = APIRouter()

ACTIVE = "/console/transfers"
LIST = StatusList(
    api="/v1/transfers", template="transfers.html", active=ACTIVE, statuses=TransferStatus
)


@router.get("/transfers", response_class=HTMLResponse)
async def transfers(
    request: Request,
    operator: OperatorDep,
    status: Filter[TransferStatus] = None,
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    return await LIST.show(request, operator, status, cursor)


async def _transfer_page(
    request: Request, operator: Operator, number: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    transfer = await operator.api.get(f"/v1/transfers/{number}")
    return render(
        request,
        "transfer.html",
        operator,
        status=status,
        active=ACTIVE,
        transfer=transfer,
        actions=_actions(operator.can, TransferStatus(transfer["status"])),
        **context,
    )


def _actions(can: Can, status: TransferStatus) -> frozenset[str]:
    """The forms to show: the steps this role may take at this status (the API
    decides; a form not shown is only not offered)."""
    if not can.warehouse:
        return frozenset()
    if status in (TransferStatus.REQUESTED, TransferStatus.RESERVED):
        return frozenset({"ship", "cancel"})
    return frozenset({"receive"}) if status.receivable else frozenset()


@router.get("/transfers/{number}", response_class=HTMLResponse)
async def transfer(request: Request, operator: OperatorDep, number: Code) -> HTMLResponse:
    return await _transfer_page(request, operator, number)


STEPS = Steps(api="/v1/transfers", url=ACTIVE, page=_transfer_page)


@router.post("/transfers/{number}/ship")
async def ship(request: Request, operator: OperatorDep, form: FormDep, number: Code) -> Response:
    body = {"carrier": form.get("carrier"), "tracking_number": form.get("tracking_number")}
    return await STEPS.take(
        request,
        operator,
        form,
        key=number,
        step="ship",
        body=body,
        done=f"Shipped transfer {number}.",
    )


@router.post("/transfers/{number}/receive")
async def receive(request: Request, operator: OperatorDep, form: FormDep, number: Code) -> Response:
    lines = posted_lines(form, ("sku", "lot", "received", "reason"), filled=("received", "reason"))
    for line in lines:  # a reason alone closes the line: none of the rest came
        if line["received"] is None and line["reason"] is not None:
            line["received"] = "0"
    body = {"location": form.get("location"), "lines": lines}
    done = f"Recorded a receipt for transfer {number}."
    return await STEPS.take(
        request, operator, form, key=number, step="receive", body=body, done=done
    )


@router.post("/transfers/{number}/cancel")
async def cancel(request: Request, operator: OperatorDep, form: FormDep, number: Code) -> Response:
    body = {"reason": form.get("reason")}
    return await STEPS.take(
        request,
        operator,
        form,
        key=number,
        step="cancel",
        body=body,
        done=f"Canceled transfer {number}.",
    )
