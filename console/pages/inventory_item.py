"""One SKU: its facts, balances by warehouse, location, lot and serial, its movement
ledger, charts of on hand and of demand against the forecast, and the stock actions
(adjust, move, start a transfer) for roles that may change stock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from api.schemas.common import Code, Cursor, WarehouseCode
from console.api_client import Refusal
from console.charts import Chart, chart
from console.filters import Filter
from console.pages.inventory import warehouse_codes
from console.pages.queue_forms import words
from console.rendering import act, render
from console.session import Form, FormDep, Operator, OperatorDep

router = APIRouter()

Days = Annotated[
    Filter[Annotated[int, Field(ge=1, le=366)]], Query(description="how many days the charts show")
]


def sku_url(sku: str, **query: Any) -> str:
    pairs = {k: str(v) for k, v in query.items() if v not in (None, "")}
    return f"/console/inventory/{quote(sku, safe='')}" + (f"?{urlencode(pairs)}" if pairs else "")


def transfer_number() -> str:
    """A fresh suggestion (the operator may type another)."""
    return f"TR-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3).upper()}"


def _summary(what: str, where: str, days: list[dict[str, Any]], key: str, unit: str) -> str:
    values = [float(d[key]) for d in days]
    if not values:
        return f"No {what} recorded."
    return (
        f"{what} {where}, {days[0]['day']} to {days[-1]['day']}: lowest {min(values):g}, "
        f"highest {max(values):g}, last {values[-1]:g} {unit}."
    )


async def _forecast(operator: Operator, sku: str, warehouse: str | None) -> dict[str, Any] | None:
    """The replenishment forecast's daily demand (summed over warehouses without one)."""
    rows = (
        await operator.api.get(
            "/v1/replenishment/suggestions", {"sku": sku, "warehouse": warehouse, "all": "true"}
        )
    )["items"]
    if not rows:
        return None
    return {
        "daily": sum(float(r["forecast_daily_demand"]) for r in rows),
        "methods": sorted({str(r["forecast_method"]) for r in rows}),
    }


def _charts(history: dict[str, Any], forecast: dict[str, Any] | None) -> dict[str, Chart]:
    days = history["days"]
    labels = [str(d["day"])[5:] for d in days]  # MM-DD
    charts = {"on_hand": chart(labels, line=[float(d["on_hand"]) for d in days])}
    if forecast is not None:
        charts["demand"] = chart(
            labels, bars=[float(d["demand"]) for d in days], level=forecast["daily"]
        )
    return charts


async def sku_page(
    request: Request,
    operator: OperatorDep,
    sku: str,
    *,
    warehouse: str | None = None,
    days: int = 30,
    cursor: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    api = operator.api
    item = await api.get(f"/v1/items/{quote(sku, safe='')}")
    balances = (await api.get("/v1/inventory/balances", {"sku": sku}))["items"]
    ledger = await api.get("/v1/inventory/movements", {"sku": sku, "cursor": cursor, "limit": 25})
    history = await api.get(
        "/v1/inventory/on-hand-history", {"sku": sku, "warehouse": warehouse, "days": days}
    )
    forecast = await _forecast(operator, sku, warehouse)
    codes = await warehouse_codes(operator)
    where = f"at {warehouse}" if warehouse else "at all warehouses"
    unit = item["uom"]["unit"]
    here = warehouse or (balances[0]["warehouse"] if balances else (codes[0] if codes else ""))
    return render(
        request,
        "inventory_item.html",
        operator,
        status=status,
        active="/console/inventory",
        title=f"{sku} · Inventory",
        sku=sku,
        item=item,
        unit=unit,
        balances=balances,
        ledger=ledger,
        history=history,
        forecast=forecast,
        charts=_charts(history, forecast),
        on_hand_desc=_summary("On hand", where, history["days"], "on_hand", unit),
        demand_desc=_summary("Daily demand", where, history["days"], "demand", unit)
        + (f" Forecast: {forecast['daily']:g} {unit} a day." if forecast else ""),
        where=where,
        warehouse=warehouse,
        days=days,
        chart_filters={"warehouse": warehouse or "", "days": str(days)},
        warehouses=[(c, c) for c in codes],
        defaults={
            "adjust_warehouse": here,
            "move_warehouse": here,
            "from_warehouse": here,
            "to_warehouse": next((c for c in codes if c != here), ""),
            "transfer_number": transfer_number(),
        },
        next_ledger=ledger["next_cursor"]
        and sku_url(sku, warehouse=warehouse, days=days, cursor=ledger["next_cursor"]),
        first_ledger=cursor and sku_url(sku, warehouse=warehouse, days=days),
        sku_url=sku_url,
        **context,
    )


@router.get("/inventory/{sku}", response_class=HTMLResponse)
async def sku_detail(
    request: Request,
    operator: OperatorDep,
    sku: Code,
    warehouse: Filter[WarehouseCode] = None,
    days: Days = None,
    cursor: Filter[Cursor] = None,
) -> HTMLResponse:
    return await sku_page(
        request, operator, sku, warehouse=warehouse, days=days or 30, cursor=cursor
    )


@dataclass(frozen=True, kw_only=True)
class _StockForm:
    """One posted stock form of a SKU's page: sent to the API with the form's
    idempotency key; done, back to the page; refused, the page with the problem
    next to this form and the operator's input."""

    request: Request
    operator: Operator
    form: Form
    sku: str

    async def post(
        self, action: str, path: str, body: dict[str, Any], *, warehouse: str | None, done: str
    ) -> Response:
        async def refused(problem: Refusal) -> Response:
            # The page over every warehouse: the posted one may be what was refused.
            return await sku_page(
                self.request,
                self.operator,
                self.sku,
                warehouse=None,
                status=problem.status,
                problem=problem,
                failed=action,
                form=self.form.fields(),
            )

        call = self.operator.api.post(path, body, idempotency_key=self.form.idempotency_key)
        then = sku_url(self.sku, warehouse=warehouse)
        return await act(self.request, call, done=done, then=then, refused=refused)


@router.post("/inventory/{sku}/adjust")
async def adjust(request: Request, sku: Code, form: FormDep, operator: OperatorDep) -> Response:
    warehouse, delta = form.get("adjust_warehouse"), form.get("delta")
    body = {
        "warehouse": warehouse,
        "location": form.get("adjust_location"),
        "sku": sku,
        "lot": form.get("adjust_lot"),
        "delta": delta,
        "reason": form.get("reason"),
        "serials": words(form.get("adjust_serials")),
    }
    return await _StockForm(request=request, operator=operator, form=form, sku=sku).post(
        "adjust",
        "/v1/inventory/adjustments",
        body,
        warehouse=warehouse,
        done=f"Adjusted {sku} at {warehouse} by {delta}.",
    )


@router.post("/inventory/{sku}/move")
async def move(request: Request, sku: Code, form: FormDep, operator: OperatorDep) -> Response:
    warehouse, quantity = form.get("move_warehouse"), form.get("move_quantity")
    body = {
        "warehouse": warehouse,
        "from_location": form.get("from_location"),
        "to_location": form.get("to_location"),
        "sku": sku,
        "lot": form.get("move_lot"),
        "quantity": quantity,
        "serials": words(form.get("move_serials")),
    }
    return await _StockForm(request=request, operator=operator, form=form, sku=sku).post(
        "move",
        "/v1/inventory/moves",
        body,
        warehouse=warehouse,
        done=f"Moved {quantity} of {sku} from {body['from_location']} to {body['to_location']}.",
    )


@router.post("/inventory/{sku}/transfer")
async def start_transfer(
    request: Request, sku: Code, form: FormDep, operator: OperatorDep
) -> Response:
    number, source = form.get("transfer_number"), form.get("from_warehouse")
    line = {"sku": sku, "quantity": form.get("transfer_quantity"), "lot": form.get("transfer_lot")}
    body = {
        "transfer_number": number,
        "from_warehouse": source,
        "to_warehouse": form.get("to_warehouse"),
        "lines": [line],
    }
    return await _StockForm(request=request, operator=operator, form=form, sku=sku).post(
        "transfer",
        "/v1/transfers",
        body,
        warehouse=source,
        done=f"Transfer {number} requested: stock is reserved at {source}.",
    )
