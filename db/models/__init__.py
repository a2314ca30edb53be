"""SQLAlchemy 2 tables. Every business row carries tenant_id."""

from db.models.base import Base
from db.models.catalogue import Item, Location, Lot, Serial, Warehouse
from db.models.events import (
    Event,
    EventSubject,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from db.models.orders import FulfillmentRequestRow, Order, OrderLine
from db.models.replenishment import (
    ItemBarcode,
    ItemSupplier,
    PurchaseOrder,
    PurchaseOrderLine,
    Recall,
)
from db.models.returns_transfers import (
    Alert,
    Return,
    ReturnLine,
    Transfer,
    TransferSerial,
    TransferStock,
)
from db.models.stock import (
    Allocation,
    Balance,
    IdempotencyRecord,
    LotLevel,
    Movement,
    Reservation,
    StockLevel,
)
from db.models.tenants import ApiKey, Tenant

__all__ = [
    "Alert",
    "Allocation",
    "ApiKey",
    "Balance",
    "Base",
    "Event",
    "EventSubject",
    "FulfillmentRequestRow",
    "IdempotencyRecord",
    "Item",
    "ItemBarcode",
    "ItemSupplier",
    "Location",
    "Lot",
    "LotLevel",
    "Movement",
    "Order",
    "OrderLine",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Recall",
    "Reservation",
    "Return",
    "ReturnLine",
    "Serial",
    "StockLevel",
    "Tenant",
    "Transfer",
    "TransferSerial",
    "TransferStock",
    "Warehouse",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
