"""Which events one projected step of an order produces: the order's, its fulfillment
requests' and its shipments', read from the order before and after the step. Pure;
the projection writes them in the transaction of the step (db/order_events.py).

The rules:
* an order's first projected view is `order.created`; its status is then counted
  from `received` (the status an order is recorded with), so every change of status
  is one `order.status_changed`, and a change to shipped / canceled is also
  `order.shipped` / `order.canceled`;
* a request seen for the first time is `fulfillment_request.created`; each step its
  status moved (requested → accepted → picked → packed → shipped) is one event, in
  that order, also when a view jumps several steps; a request that ends canceled
  (from any open status) is `fulfillment_request.canceled`;
* a shipment seen for the first time is `shipment.created`. A request ships at most
  once (shipped is final), so a shipment's id is the id of the request it shipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.events import EventType
from domain.orders import OrderStatus, RequestStatus

_STEPS: Sequence[RequestStatus] = (
    RequestStatus.REQUESTED,
    RequestStatus.ACCEPTED,
    RequestStatus.PICKED,
    RequestStatus.PACKED,
    RequestStatus.SHIPPED,
)
_STEP_EVENTS: Mapping[RequestStatus, EventType] = {
    RequestStatus.REQUESTED: EventType.REQUEST_CREATED,
    RequestStatus.ACCEPTED: EventType.REQUEST_ACCEPTED,
    RequestStatus.PICKED: EventType.REQUEST_PICKED,
    RequestStatus.PACKED: EventType.REQUEST_PACKED,
    RequestStatus.SHIPPED: EventType.REQUEST_SHIPPED,
}
_ORDER_ENDS: Mapping[OrderStatus, EventType] = {
    OrderStatus.SHIPPED: EventType.ORDER_SHIPPED,
    OrderStatus.CANCELED: EventType.ORDER_CANCELED,
}
RECORDED_STATUS = OrderStatus.RECEIVED  # an order's status before its first view


@dataclass(frozen=True, kw_only=True)
class OrderFacts:
    """What the rule reads of one projected view of an order."""

    status: OrderStatus
    requests: Sequence[tuple[str, RequestStatus]] = ()  # (id, status), in view order
    shipments: Sequence[str] = ()  # the request id of each shipment, in view order


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    """An event of the step: its type and subject id (the order number, a request's
    id or a shipment's id)."""

    type: EventType
    subject_id: str
    previous_status: OrderStatus | None = None  # order.status_changed: the status before


def order_events(
    order_number: str, before: OrderFacts | None, after: OrderFacts
) -> list[OrderEvent]:
    """The events of the step from `before` (None: nothing projected yet) to `after`:
    the order's first, then each request's in view order, then new shipments."""
    events = _order_changes(order_number, before, after)
    known = dict(before.requests) if before else {}
    for request_id, status in after.requests:
        events += [
            OrderEvent(type=t, subject_id=request_id)
            for t in request_types(known.get(request_id), status)
        ]
    shipped = set(before.shipments) if before else set()
    events += [
        OrderEvent(type=EventType.SHIPMENT_CREATED, subject_id=s)
        for s in after.shipments
        if s not in shipped
    ]
    return events


def _order_changes(
    order_number: str, before: OrderFacts | None, after: OrderFacts
) -> list[OrderEvent]:
    events = [] if before else [OrderEvent(type=EventType.ORDER_CREATED, subject_id=order_number)]
    previous = before.status if before else RECORDED_STATUS
    if after.status is not previous:
        events.append(
            OrderEvent(
                type=EventType.ORDER_STATUS_CHANGED,
                subject_id=order_number,
                previous_status=previous,
            )
        )
        if after.status in _ORDER_ENDS:
            events.append(OrderEvent(type=_ORDER_ENDS[after.status], subject_id=order_number))
    return events


def request_types(before: RequestStatus | None, after: RequestStatus) -> list[EventType]:
    """A request's events from status `before` (None: new) to `after`."""
    if before is not None and before.is_final:
        return []  # shipped and canceled are final: nothing follows them
    start = -1 if before is None else _STEPS.index(before)
    if after is RequestStatus.CANCELED:
        created = [EventType.REQUEST_CREATED] if before is None else []
        return [*created, EventType.REQUEST_CANCELED]
    return [_STEP_EVENTS[s] for s in _STEPS[start + 1 : _STEPS.index(after) + 1]]
