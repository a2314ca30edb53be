"""The events of one projected order step, as the projection writes them with its
rows: which ones (domain.order_events, from the order before and after the step) and
their stored data (contracts.order_events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from contracts.order_events import (
    OrderEventData,
    RequestEventData,
    ShipmentEventData,
    shipping_of,
)
from contracts.orders import OrderView
from domain.events import NewEvent, Subject
from domain.order_events import OrderEvent, OrderFacts, order_events
from domain.orders import OrderStatus, RequestStatus

_ORDER = TypeAdapter(OrderEventData)
_REQUEST = TypeAdapter(RequestEventData)
_SHIPMENT = TypeAdapter(ShipmentEventData)

# What the step's statement returns of the order row it replaced (locked): only what
# the rule compares, cut out of the stored view by Postgres.
PREVIOUS_FACTS = """
    o.version AS previous_version, o.status AS previous_status,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(r ->> 'id', r ->> 'status')), '[]')
     FROM jsonb_array_elements(coalesce(o.view -> 'fulfillment_requests', '[]')) r)
        AS previous_requests,
    (SELECT coalesce(jsonb_agg(s ->> 'request_id'), '[]')
     FROM jsonb_array_elements(coalesce(o.view -> 'shipments', '[]')) s)
        AS previous_shipments
"""


def facts_of(view: OrderView) -> OrderFacts:
    return OrderFacts(
        status=view.status,
        requests=[(r.id, r.status) for r in view.fulfillment_requests],
        shipments=[s.request_id for s in view.shipments],
    )


def previous_facts(
    version: int, status: str, requests: Sequence[Sequence[str]], shipments: Sequence[str]
) -> OrderFacts | None:
    """The order before the step, from PREVIOUS_FACTS; None before its first view
    (recorded with version 0)."""
    if version == 0:
        return None
    return OrderFacts(
        status=OrderStatus(status),
        requests=[(r_id, RequestStatus(r_status)) for r_id, r_status in requests],
        shipments=list(shipments),
    )


def step_events(view: OrderView, before: OrderFacts | None) -> list[NewEvent]:
    """The events of the step that replaced `before` with `view`, each with its data."""
    changes = order_events(view.order_number, before, facts_of(view))
    return _StepData(view).events(changes) if changes else []


class _StepData:
    """The stored data of a step's events, each dumped once."""

    def __init__(self, view: OrderView) -> None:
        self._view = view
        self._order: dict[str, Any] | None = None

    def events(self, changes: Sequence[OrderEvent]) -> list[NewEvent]:
        return [
            NewEvent(
                tenant_id=self._view.tenant_id,
                type=c.type,
                subject_id=c.subject_id,
                data=self._data(c),
            )
            for c in changes
        ]

    def _data(self, change: OrderEvent) -> dict[str, Any]:
        view = self._view
        subject = change.type.subject
        if subject is Subject.ORDER:
            if self._order is None:
                self._order = _ORDER.dump_python(OrderEventData(order=view), mode="json")
            if change.previous_status is None:
                return self._order
            return {**self._order, "previous_status": change.previous_status.value}
        stored: dict[str, Any]
        if subject is Subject.FULFILLMENT_REQUEST:
            [request] = [r for r in view.fulfillment_requests if r.id == change.subject_id]
            stored = _REQUEST.dump_python(
                RequestEventData(
                    order_number=view.order_number, shipping=shipping_of(view), request=request
                ),
                mode="json",
            )
            return stored
        [shipment] = [s for s in view.shipments if s.request_id == change.subject_id]
        stored = _SHIPMENT.dump_python(
            ShipmentEventData(
                order_number=view.order_number,
                skus={line.line_id: line.sku for line in view.lines},
                shipment=shipment,
            ),
            mode="json",
        )
        return stored
