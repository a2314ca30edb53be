"""Orders: the list (filters by status, customer and the day placed) and an order's
page (lines and their buckets, holds, requests, shipments, returns, its timeline)
with the actions the API allows: place and release holds, cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Code, Cursor, Identifier
from console.api_client import Refusal
from console.filters import Filter, choices
from console.rendering import act, render
from console.session import Form, FormDep, Operator, OperatorDep
from domain.orders import FINAL_STATUSES, HoldBlocks, OrderStatus

router = APIRouter()

ACTIVE = "/console/orders"
TIMELINE_EVENTS = 200  # the order's first events; a longer story says so


def _day_start(day: date | None, *, days: int = 0) -> str | None:
    """A calendar day (UTC) as the API's time bound: its midnight, `days` later."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days), time(), tzinfo=UTC).isoformat()


@router.get("/orders", response_class=HTMLResponse)
async def orders_list(
    request: Request,
    operator: OperatorDep,
    status: Filter[OrderStatus] = None,
    customer_id: Filter[Identifier] = None,
    created_from: Filter[date] = None,
    created_to: Filter[date] = None,
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    page = await operator.api.get(
        "/v1/orders",
        {
            "status": status,
            "customer_id": customer_id,
            "created_from": _day_start(created_from),
            "created_to": _day_start(created_to, days=1),  # the whole last day
            "cursor": cursor,
            "limit": 50,
        },
    )
    return render(
        request,
        "orders.html",
        operator,
        active=ACTIVE,
        page=page,
        statuses=choices(OrderStatus),
        filters={
            "status": status or "",
            "customer_id": customer_id or "",
            "created_from": created_from.isoformat() if created_from else "",
            "created_to": created_to.isoformat() if created_to else "",
        },
    )


def _path(order_number: str) -> str:
    return quote(order_number, safe="")


async def _order_page(
    request: Request,
    operator: Operator,
    order_number: str,
    *,
    problem: Refusal | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The order's page; after a refusal, `failed` names the form it answers."""
    number = _path(order_number)
    order = await operator.api.get(f"/v1/orders/{number}")
    returns = await operator.api.get("/v1/returns", {"order_number": order_number, "limit": 100})
    events = await operator.api.get(
        "/v1/events", {"subject": f"order:{order_number}", "limit": TIMELINE_EVENTS}
    )
    return render(
        request,
        "order.html",
        operator,
        status=problem.status if problem else 200,
        active=ACTIVE,
        title=f"Order {order['order_number']}",
        order=order,
        returns=returns["items"],
        events=events["items"],
        more_events=len(events["items"]) == TIMELINE_EVENTS,
        cancelable=OrderStatus(order["status"]) not in FINAL_STATUSES,
        blocks=[(b.value, b.value) for b in HoldBlocks],
        problem=problem,
        failed=failed,
        form=form or {},
    )


@router.get("/orders/{order_number}", response_class=HTMLResponse)
async def order_page(request: Request, operator: OperatorDep, order_number: Code) -> HTMLResponse:
    return await _order_page(request, operator, order_number)


async def _order_action(
    request: Request,
    operator: Operator,
    form: Form,
    order_number: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    failed: str | None = None,
    done: str,
) -> Response:
    """POST the order's `action` (`holds`, `cancel`…) to the API with the form's key:
    back to the order, or the order again with the API's refusal next to the form
    `failed` names (the action's by default)."""

    async def refused(problem: Refusal) -> Response:
        return await _order_page(
            request,
            operator,
            order_number,
            problem=problem,
            failed=failed or action,
            form=form.fields(),
        )

    then = f"/console/orders/{_path(order_number)}"
    call = operator.api.post(
        f"/v1/orders/{_path(order_number)}/{action}", body, idempotency_key=form.idempotency_key
    )
    return await act(request, call, done=done, then=then, refused=refused)


@router.post("/orders/{order_number}/holds")
async def place_hold(
    request: Request, operator: OperatorDep, form: FormDep, order_number: Code
) -> Response:
    body = {"code": form.get("code"), "reason": form.get("reason")}
    if form.get("blocks"):
        body["blocks"] = form.get("blocks")
    done = f"Hold {body['code']} placed on order {order_number}."
    return await _order_action(request, operator, form, order_number, "holds", body, done=done)


@router.post("/orders/{order_number}/holds/{hold_id}/release")
async def release_hold(
    request: Request, operator: OperatorDep, form: FormDep, order_number: Code, hold_id: Identifier
) -> Response:
    action = f"holds/{quote(hold_id, safe='')}/release"
    done = f"Hold released on order {order_number}."
    return await _order_action(
        request, operator, form, order_number, action, failed=f"release-{hold_id}", done=done
    )


@router.post("/orders/{order_number}/cancel")
async def cancel_order(
    request: Request, operator: OperatorDep, form: FormDep, order_number: Code
) -> Response:
    body = {"reason": form.get("cancel_reason")}
    done = f"Order {order_number} canceled (what had not shipped)."
    return await _order_action(request, operator, form, order_number, "cancel", body, done=done)
