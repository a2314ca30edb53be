"""The stored `data` of order, fulfillment-request and shipment events: the subject as
the order's view holds it, with what the API needs to show it as GET does (the
order number and shipping wishes of a request, the SKUs of a shipment's lines)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.orders import OrderView, RequestView, ShipmentView
from contracts.shipping import Shipping
from domain.orders import OrderStatus


@dataclass(kw_only=True)
class OrderEventData:
    order: OrderView
    previous_status: OrderStatus | None = None  # order.status_changed: the status before


@dataclass(kw_only=True)
class RequestEventData:
    order_number: str
    shipping: Shipping
    request: RequestView


@dataclass(kw_only=True)
class ShipmentEventData:
    order_number: str
    skus: dict[str, str]  # the order's line id: SKU, for display units
    shipment: ShipmentView


def shipping_of(view: OrderView) -> Shipping:
    """What the warehouse needs to ship the order (views projected before shipping
    was shown hold only the customer and priority)."""
    return view.shipping or Shipping(customer_id=view.customer_id, priority=view.priority)
