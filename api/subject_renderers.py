"""How return, transfer, inventory and alert events show their subject: with the
functions and schemas the API shows those resources with, from the state the event
stored (the subject when it changed), in display units."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.purchasing_service import purchase_order_public
from api.returns_service import RETURN_VIEW, return_public
from api.routes.stock_reads import level_totals
from api.schemas.inventory import BalancePublic
from api.schemas.transfers import AlertPublic
from api.transfers_service import transfer_public
from api.units import Units
from contracts.events import StoredEvent
from contracts.purchasing import PURCHASE_ORDER_VIEW
from db.stock.queries import LevelRow
from db.transfers import TRANSFER_VIEW
from domain.events import Subject

Sessions = async_sessionmaker[AsyncSession]


async def _return(sessions: Sessions, event: StoredEvent) -> Any:
    """As GET /v1/returns/{rma} shows it (the refund once closed)."""
    view = RETURN_VIEW.validate_python(event.data)
    units = await Units.load(sessions, event.tenant_id, (x.sku for x in view.lines))
    return return_public(view, units).model_dump(mode="json")


async def _transfer(sessions: Sessions, event: StoredEvent) -> Any:
    """As GET /v1/transfers/{number} shows it."""
    view = TRANSFER_VIEW.validate_python(event.data)
    units = await Units.load(sessions, event.tenant_id, (x.sku for x in view.lines))
    return transfer_public(view, units).model_dump(mode="json")


async def _purchase_order(sessions: Sessions, event: StoredEvent) -> Any:
    """As GET /v1/purchase-orders/{number} showed it when the event occurred."""
    view = PURCHASE_ORDER_VIEW.validate_python(event.data)
    units = await Units.load(sessions, event.tenant_id, (x.sku for x in view.lines))
    return purchase_order_public(view, units, event.occurred_at).model_dump(mode="json")


async def _inventory(sessions: Sessions, event: StoredEvent) -> Any:
    """As GET /v1/inventory/balances?sku=&warehouse= shows the SKU at the warehouse,
    when it crossed: its totals (an event carries no locations)."""
    level = event.data
    uom = (await Units.load(sessions, event.tenant_id, [level["sku"]])).of(level["sku"])
    row = LevelRow(
        sku=level["sku"],
        warehouse=level["warehouse"],
        on_hand=level["on_hand"],
        reserved=level["reserved"],
        allocated=level["allocated"],
        in_transit=level["in_transit"],
        incoming=level["incoming"],
        held=level["held"],
        places=(),
    )
    return BalancePublic(
        sku=row.sku,
        warehouse=row.warehouse,
        unit=uom.unit,
        **level_totals(uom.to_display, row),
        locations=[],
    ).model_dump(mode="json")


async def _alert(sessions: Sessions, event: StoredEvent) -> Any:
    """As GET /v1/alerts shows it."""
    return AlertPublic.model_validate(event.data).model_dump(mode="json")


def warehouse_renderers() -> dict[str, Callable[[Sessions, StoredEvent], Awaitable[Any]]]:
    """The renderers of the return, transfer, inventory and alert subjects."""
    return {
        Subject.RETURN.value: _return,
        Subject.TRANSFER.value: _transfer,
        Subject.INVENTORY.value: _inventory,
        Subject.ALERT.value: _alert,
        Subject.PURCHASE_ORDER.value: _purchase_order,
    }
