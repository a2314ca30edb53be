"""The fulfillment queue: a warehouse's requests by priority, and one request with the
form for its next step (accept, pick, pack, ship), each a POST to the API's
/v1/fulfillment-requests/{id}/<step> with the form's idempotency key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.schemas.common import Cursor, Identifier, WarehouseCode
from console.api_client import Refusal
from console.filters import Filter
from console.pages.queue_forms import pack_body, pack_rows, pick_body, pick_rows, ship_body
from console.rendering import act, render
from console.session import Form, FormDep, Operator, OperatorDep
from domain.orders import RequestStatus
from domain.shipping import LengthUnit, WeightUnit

router = APIRouter()

ACTIVE = "/console/queue"
PAGE_SIZE = 50

Step = Literal["accept", "pick", "pack", "ship"]

# The step each status waits for: (step, what the flash says once done).
NEXT_STEP: dict[RequestStatus, Step] = {
    RequestStatus.REQUESTED: "accept",
    RequestStatus.ACCEPTED: "pick",
    RequestStatus.PICKED: "pack",
    RequestStatus.PACKED: "ship",
}
_DONE: dict[Step, str] = {
    "accept": "Accepted",
    "pick": "Pick confirmed for",
    "pack": "Packed",
    "ship": "Shipped",
}
_BODIES: dict[Step, Callable[[Form], dict[str, Any] | None]] = {
    "accept": lambda _: None,
    "pick": pick_body,
    "pack": pack_body,
    "ship": ship_body,
}


@router.get("/queue", response_class=HTMLResponse)
async def queue(
    request: Request,
    operator: OperatorDep,
    warehouse: Filter[WarehouseCode] = None,
    status: Filter[Literal["open", "all"] | RequestStatus] = "open",
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    """Open requests (not yet shipped or canceled) unless another status is asked
    (`all`, or blank: every request)."""
    status = None if status in (None, "all") else status
    warehouses = await operator.api.get("/v1/warehouses")
    page = await operator.api.get(
        "/v1/fulfillment-requests",
        {
            "warehouse": warehouse,
            "status": status,
            "sort": "priority",
            "cursor": cursor,
            "limit": PAGE_SIZE,
        },
    )
    return render(
        request,
        "queue.html",
        operator,
        active=ACTIVE,
        warehouses=warehouses["items"],
        statuses=list(RequestStatus),
        page=page,
        form={"warehouse": warehouse or "", "status": status or "all"},
    )


def _path(request_id: str) -> str:
    return quote(request_id, safe="")


async def _request_page(
    request: Request, operator: Operator, request_id: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    shown = await operator.api.get(f"/v1/fulfillment-requests/{_path(request_id)}")
    return render(
        request,
        "queue_request.html",
        operator,
        status=status,
        active=ACTIVE,
        fr=shown,
        step=NEXT_STEP.get(RequestStatus(shown["status"])),
        pick_rows=pick_rows(shown),
        pack_rows=pack_rows(shown),
        weight_units=[(u.value, u.value) for u in WeightUnit],
        length_units=[(u.value, u.value) for u in LengthUnit],
        **context,
    )


@router.get("/queue/{request_id}", response_class=HTMLResponse)
async def queued_request(
    request: Request, operator: OperatorDep, request_id: Identifier
) -> HTMLResponse:
    return await _request_page(request, operator, request_id)


@router.post("/queue/{request_id}/{step}")
async def confirm_step(
    request: Request, operator: OperatorDep, form: FormDep, request_id: Identifier, step: Step
) -> Response:
    """One step of the request, as the form says; the API decides whether it may."""
    here = f"/console/queue/{_path(request_id)}"

    async def refused(problem: Refusal) -> Response:
        return await _request_page(
            request,
            operator,
            request_id,
            status=problem.status,
            problem=problem,
            form=form.fields(),
        )

    return await act(
        request,
        operator.api.post(
            f"/v1/fulfillment-requests/{_path(request_id)}/{step}",
            _BODIES[step](form),
            idempotency_key=form.idempotency_key,
        ),
        done=f"{_DONE[step]} {request_id}.",
        then=here,
        refused=refused,
    )
