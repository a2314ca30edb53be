"""Events as receivers get them (the feed and every webhook delivery): the envelope,
and per event type its `data`, the subject as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from api.schemas.inventory import BalancePublic
from api.schemas.lots import RecallPublic
from api.schemas.orders import OrderPublic, RequestPublic, ShipmentPublic
from api.schemas.purchasing import PurchaseOrderPublic
from api.schemas.returns import ReturnPublic
from api.schemas.transfers import AlertPublic, TransferPublic
from domain.events import VERSIONS, EventType, Subject
from domain.orders import OrderStatus


class EventSubject(BaseModel):
    type: Subject
    id: str = Field(
        description="order: its number; fulfillment_request: its id; shipment: the id of"
        " the request it shipped (a request ships once); return: its RMA; transfer: its"
        " number; inventory: `<warehouse>/<sku>`; alert: its id; purchase_order: its number"
        " number; inventory: `<warehouse>/<sku>`; alert: its id; recall: its id"
    )


class EventPublic(BaseModel):
    id: str = Field(description="evt_…: also the `webhook-id` of its every delivery")
    type: str
    version: int = Field(description="the schema version of this type's `data`")
    tenant: str
    occurred_at: str = Field(json_schema_extra={"format": "date-time"}, description="RFC 3339")
    subject: EventSubject
    sequence: int = Field(description="1, 2, … per subject, in the order of its changes")
    data: Any = Field(description="the subject as the API shows it when the event occurred")


class EventPage(BaseModel):
    items: list[EventPublic]
    next_cursor: str | None = Field(
        None,
        description="pass as `after` to read on; stays where it was when nothing new came",
    )


class OrderStatusChanged(OrderPublic):
    previous_status: OrderStatus = Field(description="the order's status before this change")


# The `data` of each subject's events, as the API shows that subject.
DATA: Mapping[Subject, type[BaseModel]] = {
    Subject.ORDER: OrderPublic,
    Subject.FULFILLMENT_REQUEST: RequestPublic,
    Subject.SHIPMENT: ShipmentPublic,
    Subject.RETURN: ReturnPublic,
    Subject.TRANSFER: TransferPublic,
    Subject.INVENTORY: BalancePublic,
    Subject.ALERT: AlertPublic,
    Subject.PURCHASE_ORDER: PurchaseOrderPublic,
    Subject.RECALL: RecallPublic,
}
_DATA_OF_TYPE: Mapping[EventType, type[BaseModel]] = {
    EventType.ORDER_STATUS_CHANGED: OrderStatusChanged,
}


def data_schema(event_type: EventType) -> type[BaseModel]:
    return _DATA_OF_TYPE.get(event_type, DATA[event_type.subject])


def envelope_model(event_type: EventType) -> type[BaseModel]:
    """The envelope of one event type, its `type`, `version` and `data` pinned."""
    name = "".join(part.title() for part in event_type.value.replace(".", "_").split("_"))
    fields: dict[str, Any] = {
        "type": (Literal[event_type.value], ...),
        "version": (Literal[VERSIONS[event_type]], ...),
        "subject": (EventSubject, ...),
        "data": (data_schema(event_type), ...),
    }
    model: type[BaseModel] = create_model(f"{name}Event", __base__=EventPublic, **fields)
    return model
