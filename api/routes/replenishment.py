"""Reorder suggestions: what to buy per SKU x warehouse, by which rule, and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from api.deps import PrincipalDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.common import (
    Code,
    Cursor,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.replenishment import ArrivalPublic, SuggestionPublic, rate_in
from api.units import Units
from db.suggestions import SuggestionRow, suggestion_rows
from domain.replenishment import explain

router = api_router(prefix="/v1/replenishment", tags=["replenishment"])

# A page reads at most this many batches of `limit` SKU x warehouse rows looking for
# suggestions; then it ends early with a cursor to go on from.
_SCAN_BATCHES = 10


def _public(row: SuggestionRow, units: Units) -> SuggestionPublic:
    uom = units.of(row.sku)
    d = uom.to_display
    position, policy, forecast, s = row.position, row.policy, row.forecast, row.suggestion

    def amount(base: float) -> str:
        return f"{rate_in(uom, base)} {uom.unit}"

    return SuggestionPublic(
        sku=row.sku,
        warehouse=row.warehouse,
        unit=uom.unit,
        on_hand=d(position.on_hand),
        available=d(position.available),
        incoming=d(position.incoming),
        backordered=d(position.backordered),
        incoming_by_date=[
            ArrivalPublic(expected_on=a.expected_on, quantity=d(a.quantity))
            for a in row.incoming_by_date
        ],
        forecast_daily_demand=rate_in(uom, forecast.daily),
        forecast_method=forecast.method,
        backtest_mae=None if forecast.mae is None else rate_in(uom, forecast.mae),
        backtest_mase=None if forecast.mase is None else round(forecast.mase, 3),
        days_of_cover=s.days_of_cover,
        lead_time_days=policy.lead_time_days,
        reorder_point=d(policy.reorder_point),
        safety_stock=d(policy.safety_stock),
        max_stock=None if policy.max_stock is None else d(policy.max_stock),
        purchase_multiple=d(policy.purchase_multiple),
        suggested_quantity=d(s.quantity),
        rule=s.rule,
        explanation=explain(s, position, policy, forecast, amount),
    )


@router.get(
    "/suggestions",
    response_model=Page[SuggestionPublic],
    summary="What to reorder per SKU and warehouse, with the rule and every number explained",
    description="Rows with a suggested quantity above zero (all rows with `all=true`), "
    "by SKU then warehouse. A page may hold fewer than `limit` rows; follow `next_cursor` "
    "until it is null. The forecast reads `OMS_DEMAND_HISTORY_DAYS` of shipped-minus-"
    'returned demand; see the README, "Reorder suggestions and inventory health".',
)
async def get_suggestions(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    sku: Code | None = None,
    warehouse: WarehouseCode | None = None,
    all_rows: Annotated[
        bool, Query(alias="all", description="also rows with nothing to order")
    ] = False,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[SuggestionPublic]:
    settings = resources.settings
    after = decode_cursor(cursor, tuple[Code, WarehouseCode])
    found: list[SuggestionRow] = []
    more = False
    for _ in range(_SCAN_BATCHES):
        rows = await suggestion_rows(
            session,
            principal.tenant_id,
            sku=sku,
            warehouse=warehouse,
            after=tuple(after) if after else None,
            limit=limit - len(found),
            today=datetime.now(UTC).date(),
            history_days=settings.demand_history_days,
            default_lead_time_days=settings.default_lead_time_days,
        )
        more = len(rows) == limit - len(found)
        found += [r for r in rows if all_rows or r.suggestion.quantity > 0]
        if rows:
            after = (rows[-1].sku, rows[-1].warehouse)
        if not more or len(found) >= limit:
            break
    units = await Units.load_with(session, principal.tenant_id, {r.sku for r in found})
    next_cursor = encode_cursor(list(after)) if more and after else None
    return Page(items=[_public(r, units) for r in found], next_cursor=next_cursor)
