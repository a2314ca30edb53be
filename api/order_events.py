"""Order, fulfillment-request and shipment events as receivers get them: `data` is the
subject as GET shows it (display units), by the functions the routes use; an
`order.status_changed` adds `previous_status`."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.orders_service import order_public, request_public, shipment_public
from api.units import Units
from contracts.events import StoredEvent
from contracts.order_events import OrderEventData, RequestEventData, ShipmentEventData
from db.orders import request_created_at
from domain.events import Subject

_ORDER = TypeAdapter(OrderEventData)
_REQUEST = TypeAdapter(RequestEventData)
_SHIPMENT = TypeAdapter(ShipmentEventData)

Sessions = async_sessionmaker[AsyncSession]


async def order_data(sessions: Sessions, event: StoredEvent) -> dict[str, Any]:
    """GET /v1/orders/{order_number} as it was at the event (before any return)."""
    stored = _ORDER.validate_python(event.data)
    view = stored.order
    units = await Units.load(sessions, event.tenant_id, (line.sku for line in view.lines))
    shown = order_public(view, units).model_dump(mode="json")
    if stored.previous_status is not None:
        shown["previous_status"] = stored.previous_status.value
    return shown


async def request_data(sessions: Sessions, event: StoredEvent) -> dict[str, Any]:
    """GET /v1/fulfillment-requests/{id} as it was at the event."""
    stored = _REQUEST.validate_python(event.data)
    skus = {line.line_id: line.sku for line in stored.request.lines}
    units = await Units.load(sessions, event.tenant_id, skus.values())
    async with sessions() as session:
        created_at = await request_created_at(session, event.tenant_id, stored.request.id)
    shown = request_public(
        stored.request, stored.order_number, stored.shipping, units, skus, created_at=created_at
    )
    return shown.model_dump(mode="json")


async def shipment_data(sessions: Sessions, event: StoredEvent) -> dict[str, Any]:
    """The shipment as GET /v1/orders/{order_number} lists it in `shipments`."""
    stored = _SHIPMENT.validate_python(event.data)
    units = await Units.load(sessions, event.tenant_id, stored.skus.values())
    shown = shipment_public(stored.shipment, stored.order_number, units, stored.skus)
    return shown.model_dump(mode="json")


ORDER_RENDERERS = {
    Subject.ORDER.value: order_data,
    Subject.FULFILLMENT_REQUEST.value: request_data,
    Subject.SHIPMENT.value: shipment_data,
}
