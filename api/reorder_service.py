"""A purchase order built from the reorder suggestions in one call: each line is a
suggestion's quantity, expected after its lead time; started like any other PO."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import text

from api import purchasing_service as purchasing
from api.problems import Problem
from api.resources import Resources
from api.schemas.purchasing import PoLineCreate, PurchaseOrderCreate, PurchaseOrderFromSuggestions
from api.units import Units
from contracts.purchasing import PurchaseOrderView
from db.suggestions import SuggestionRow, suggestion_rows
from domain.errors import InvalidInput

MAX_LINES = 500  # a PO's limit
_BATCH = 500


async def purchase_order_from_suggestions(
    resources: Resources, tenant_id: int, body: PurchaseOrderFromSuggestions, actor: str
) -> tuple[PurchaseOrderView, bool]:
    """(the PO, created). A PO of that number that exists already is answered as it
    is (a retry after the first call succeeded: the suggestions have changed since,
    since its lines are incoming now). Otherwise its lines are the positive
    suggestions at the warehouse for `skus`, or for every SKU whose default supplier
    is `supplier`; 422 when there is nothing to order."""
    try:
        return await purchasing.purchase_order_state(resources, tenant_id, body.po_number), False
    except Problem as problem:
        if problem.status != 404:
            raise
    rows = await _suggested(resources, tenant_id, body)
    async with resources.sessions() as session:
        units = await Units.load_with(session, tenant_id, {r.sku for r in rows})
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    lines = [
        PoLineCreate(
            sku=r.sku,
            quantity=units.display(r.sku, r.suggestion.quantity),
            expected_at=today + timedelta(days=r.policy.lead_time_days),
        )
        for r in rows
    ]
    create = PurchaseOrderCreate(
        po_number=body.po_number, supplier=body.supplier, warehouse=body.warehouse, lines=lines
    )
    await purchasing.create_purchase_order(resources, tenant_id, create, actor)
    return await purchasing.purchase_order_state(resources, tenant_id, body.po_number), True


async def _suggested(
    resources: Resources, tenant_id: int, body: PurchaseOrderFromSuggestions
) -> list[SuggestionRow]:
    settings = resources.settings
    wanted = set(body.skus or ())
    found: list[SuggestionRow] = []
    after: tuple[str, str] | None = None
    async with resources.sessions() as session:
        active = await session.scalar(
            text("SELECT active FROM warehouses WHERE tenant_id = :t AND code = :w"),
            {"t": tenant_id, "w": body.warehouse},
        )
        if not active:
            state = "is not active" if active is False else "does not exist"
            raise InvalidInput(f"warehouse {body.warehouse!r} {state}", field="warehouse")
        while True:
            rows = await suggestion_rows(
                session,
                tenant_id,
                sku=body.skus[0] if body.skus and len(body.skus) == 1 else None,
                warehouse=body.warehouse,
                after=after,
                limit=_BATCH,
                today=datetime.now(UTC).date(),
                history_days=settings.demand_history_days,
                default_lead_time_days=settings.default_lead_time_days,
            )
            found += [
                r
                for r in rows
                if r.suggestion.quantity > 0
                and (r.sku in wanted if wanted else r.supplier == body.supplier)
            ]
            if len(rows) < _BATCH:
                break
            after = (rows[-1].sku, rows[-1].warehouse)
    if body.skus:
        have = {r.sku for r in found}
        for n, sku in enumerate(body.skus):
            if sku not in have:
                raise InvalidInput(
                    f"nothing to order of {sku!r} at {body.warehouse}: no active item of that "
                    "SKU with a suggestion above zero there (GET /v1/replenishment/suggestions)",
                    field=f"skus.{n}",
                )
    if not found:
        raise InvalidInput(
            f"nothing to order at {body.warehouse} from {body.supplier!r}: no item with it as "
            "its default supplier has a suggestion above zero (name `skus` to choose items)",
            field="supplier",
        )
    if len(found) > MAX_LINES:
        raise InvalidInput(
            f"{len(found)} items have suggestions: more than the {MAX_LINES} lines of a PO; "
            f"name up to {MAX_LINES} `skus`",
            field="skus",
        )
    return found
