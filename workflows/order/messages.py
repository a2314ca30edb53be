"""What goes in and out of the order workflow: its input, its updates, and the view
its `status` query returns. One input, one result each (fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.orders import FulfillmentPolicy, OrderStatus, PaymentStatus


def order_workflow_id(tenant_id: int, order_number: str) -> str:
    return f"order:{tenant_id}:{order_number}"


@dataclass(frozen=True)
class OrderLineInput:
    line_id: str
    sku: str
    quantity: int  # base units
    unit_price: str  # decimal, as text


@dataclass(frozen=True)
class PaymentInput:
    status: PaymentStatus = PaymentStatus.AUTHORIZED
    ttl_seconds: int | None = None  # with pending: how long stock stays reserved


@dataclass(frozen=True)
class OrderInput:
    tenant_id: int
    order_number: str
    customer_id: str
    currency: str
    lines: list[OrderLineInput]
    fulfillment_policy: FulfillmentPolicy = FulfillmentPolicy.SHIP_PARTIAL
    allow_split: bool = False
    priority: int = 100
    preferred_warehouse: str | None = None
    payment: PaymentInput = field(default_factory=PaymentInput)
    ship_to: dict[str, str] = field(default_factory=dict)
    request_hash: str = ""


# -- updates -------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelInput:
    reason: str


@dataclass(frozen=True)
class HoldInput:
    code: str
    reason: str


@dataclass(frozen=True)
class ReleaseHoldInput:
    hold_id: str


@dataclass(frozen=True)
class AuthorizePaymentInput:
    amount: str
    reference: str


@dataclass(frozen=True)
class ExtendReservationInput:
    seconds: int


@dataclass(frozen=True)
class ExtendReservationResult:
    expires_at: str  # RFC 3339


@dataclass(frozen=True)
class RequestInput:
    request_id: str


@dataclass(frozen=True)
class PickLineInput:
    line_id: str
    quantity: int  # base units; less than allocated is a short pick
    lot: str | None = None
    location: str | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PickInput:
    request_id: str
    lines: list[PickLineInput]


@dataclass(frozen=True)
class PackageLineInput:
    line_id: str
    quantity: int


@dataclass(frozen=True)
class PackageInput:
    package_number: str
    weight: str | None = None
    dimensions: str | None = None
    lines: list[PackageLineInput] = field(default_factory=list)


@dataclass(frozen=True)
class PackInput:
    request_id: str
    packages: list[PackageInput]


@dataclass(frozen=True)
class ShipInput:
    request_id: str
    carrier: str
    service_level: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StockArrivedInput:
    sku: str


# -- the view ------------------------------------------------------------------------


@dataclass
class LineView:
    line_id: str
    sku: str
    unit_price: str
    ordered: int
    pending: int = 0
    reserved: int = 0
    allocated: int = 0
    picked: int = 0
    packed: int = 0
    backordered: int = 0
    shipped: int = 0
    canceled: int = 0


@dataclass
class HoldView:
    id: str
    code: str
    reason: str
    active: bool = True


@dataclass
class AllocationView:
    allocation_id: int
    reservation_id: int | None
    line_id: str
    location: str
    lot: str | None
    serial: str | None
    quantity: int  # open quantity
    status: str  # allocated | picked | shipped | released


@dataclass
class RequestLineView:
    line_id: str
    sku: str
    quantity: int  # allocated to this request
    picked: int = 0
    packed: int = 0
    shipped: int = 0


@dataclass
class PackageView:
    package_number: str
    weight: str | None
    dimensions: str | None
    lines: list[PackageLineInput]


@dataclass
class ShipmentView:
    request_id: str
    carrier: str
    service_level: str | None
    tracking_numbers: list[str]
    packages: list[PackageView]
    shipped_at: str


@dataclass
class RequestView:
    id: str
    warehouse: str
    status: str  # requested | accepted | picked | packed | shipped | canceled
    lines: list[RequestLineView]
    allocations: list[AllocationView]
    packages: list[PackageView] = field(default_factory=list)


@dataclass
class OrderView:
    tenant_id: int
    order_number: str
    workflow_id: str
    customer_id: str
    currency: str
    status: OrderStatus
    fulfillment_policy: FulfillmentPolicy
    priority: int
    payment_status: PaymentStatus
    reservation_expires_at: str | None
    lines: list[LineView]
    holds: list[HoldView]
    fulfillment_requests: list[RequestView]
    shipments: list[ShipmentView]
    cancel_reason: str | None = None
    version: int = 0
