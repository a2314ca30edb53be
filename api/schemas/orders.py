"""Order and fulfillment request bodies (display quantities)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas.backorders import PROMISE, CoveredBy
from api.schemas.common import (
    Code,
    Identifier,
    Keyword,
    Money,
    NonNegativeQuantity,
    PositiveQuantity,
    Quantity,
    Serial,
    Text,
    WarehouseCode,
)
from api.schemas.shipping import (
    AddressBody,
    AddressPublic,
    PackageMeasures,
    PackageMeasuresPublic,
    PackageTrackingBody,
)
from domain.orders import FulfillmentPolicy, HoldBlocks, OrderStatus, PaymentStatus


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderLineCreate(_Body):
    line_id: Code
    sku: Code
    quantity: PositiveQuantity = Field(description="rounded to the item's increment")
    unit_price: Money = Decimal(0)


class PaymentBody(_Body):
    status: PaymentStatus = PaymentStatus.AUTHORIZED
    ttl_seconds: int | None = Field(
        None, ge=1, le=7 * 24 * 3600, description="pending: how long stock stays reserved"
    )


class OrderCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_number": "SO-1001",
                    "customer_id": "C-42",
                    "currency": "EUR",
                    "lines": [
                        {"line_id": "1", "sku": "TSHIRT-M", "quantity": 2, "unit_price": 19.9}
                    ],
                    "fulfillment_policy": "ship_partial",
                    "allow_split": False,
                    "payment": {"status": "pending", "ttl_seconds": 900},
                    "ship_to": {
                        "name": "Ada Lovelace",
                        "lines": ["Invalidenstr. 116"],
                        "city": "Berlin",
                        "postal_code": "10115",
                        "country": "DE",
                        "phone": "+49 30 1234567",
                    },
                    "shipping_method": "express",
                    "requested_ship_at": "2027-03-01T12:00:00Z",
                }
            ]
        }
    )

    order_number: Code
    customer_id: Identifier
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["EUR"])
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=500)
    fulfillment_policy: FulfillmentPolicy = FulfillmentPolicy.SHIP_PARTIAL
    allow_split: bool = False
    priority: int = Field(100, ge=0, le=1_000_000, description="lower goes first")
    preferred_warehouse: WarehouseCode | None = None
    payment: PaymentBody = Field(default_factory=PaymentBody)
    ship_to: AddressBody | None = None
    shipping_method: Keyword | None = Field(None, examples=["standard", "express"])
    requested_ship_at: AwareDatetime | None = Field(
        None, description="when the shop wants it to leave the warehouse"
    )
    requested_delivery_at: AwareDatetime | None = Field(
        None, description="when the customer expects it; not before requested_ship_at"
    )

    @field_validator("lines")
    @classmethod
    def _distinct_lines(cls, lines: list[OrderLineCreate]) -> list[OrderLineCreate]:
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("line_id values must be distinct")
        return lines

    @field_validator("requested_delivery_at")
    @classmethod
    def _delivery_after_ship(cls, at: datetime | None, info: ValidationInfo) -> datetime | None:
        ship_at = info.data.get("requested_ship_at")
        if at is not None and ship_at is not None and at < ship_at:
            raise ValueError("must not be before requested_ship_at")
        return at


class OrderCreated(BaseModel):
    order_number: str
    status: OrderStatus
    workflow_id: str


class LinePublic(BaseModel):
    line_id: str
    sku: str
    unit_price: Decimal
    ordered: Quantity
    pending: Quantity
    reserved: Quantity
    allocated: Quantity
    picked: Quantity
    packed: Quantity
    backordered: Quantity
    shipped: Quantity
    canceled: Quantity
    returned: Quantity = Decimal(0)
    expected_at: datetime | None = Field(
        None, description="backordered lines (null otherwise): " + PROMISE
    )
    covered_by: CoveredBy | None = Field(
        None, description="the stock or supply that completes the promise"
    )


HOLD_BLOCKS = (
    "what the hold stops while active: `fulfillment` stops the order's progress"
    " (reserve, allocate) and every warehouse step (accept, pick, pack, ship: 409 naming"
    " the hold); `all` stops that and the shop's cancel too (an investigation freezes"
    " the order as it is). Payment authorization and extensions stay open either way."
)


class HoldPublic(BaseModel):
    id: str
    code: str
    reason: str
    active: bool
    blocks: HoldBlocks = Field(HoldBlocks.FULFILLMENT, description=HOLD_BLOCKS)


class AllocationRef(BaseModel):
    location: str
    lot: str | None
    serial: str | None
    quantity: Quantity
    status: str


class RequestLinePublic(BaseModel):
    line_id: str
    sku: str
    quantity: Quantity
    picked: Quantity
    packed: Quantity
    shipped: Quantity
    allocations: list[AllocationRef]


class PackageLine(_Body):
    line_id: Code
    quantity: PositiveQuantity


class PackagePublic(PackageMeasuresPublic):
    package_number: str
    lines: list[PackageLine]


class ShippingPublic(BaseModel):
    """What the warehouse needs to ship an order: on the order and each request."""

    customer_id: str
    priority: int = Field(description="lower goes first")
    ship_to: AddressPublic | None
    shipping_method: str | None
    requested_ship_at: datetime | None
    requested_delivery_at: datetime | None


class RequestPublic(ShippingPublic):
    id: str
    order_number: str
    warehouse: str
    status: str
    lines: list[RequestLinePublic]
    packages: list[PackagePublic]
    created_at: datetime | None = Field(
        None,
        description="when the warehouse was sent it (on the fulfillment-request routes; "
        "null inside an order)",
    )


class ShipmentPublic(BaseModel):
    order_number: str
    request_id: str = Field(description="the request it shipped, also the shipment's id")
    carrier: str
    service_level: str | None
    tracking_numbers: list[str]
    packages: list[PackagePublic]
    shipped_at: datetime


class OrderPublic(ShippingPublic):
    order_number: str
    workflow_id: str
    currency: str
    status: OrderStatus
    fulfillment_policy: FulfillmentPolicy
    payment_status: PaymentStatus
    reservation_expires_at: datetime | None
    lines: list[LinePublic]
    holds: list[HoldPublic]
    fulfillment_requests: list[RequestPublic]
    shipments: list[ShipmentPublic]
    cancel_reason: str | None


class ListedOrderPublic(OrderPublic):
    """An order as lists show it: its state and when it was placed."""

    created_at: datetime = Field(description="when the order was placed")


class CancelBody(_Body):
    reason: Text


class HoldBody(_Body):
    code: str = Field(pattern="^[a-z_]{1,32}$", examples=["payment_hold", "fraud", "manual"])
    reason: Text
    blocks: HoldBlocks = Field(HoldBlocks.FULFILLMENT, description=HOLD_BLOCKS)


class PaymentAuthorizationBody(_Body):
    amount: Money
    reference: Identifier


class ExtensionBody(_Body):
    seconds: int = Field(ge=1, le=7 * 24 * 3600)


class ExtensionPublic(BaseModel):
    expires_at: datetime


class PickLine(_Body):
    line_id: Code
    quantity: NonNegativeQuantity
    lot: Code | None = None
    location: Code | None = None
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)


class PickBody(_Body):
    lines: list[PickLine] = Field(min_length=1, max_length=500)


class PackageBody(PackageMeasures):
    package_number: Keyword
    lines: list[PackageLine] = Field(min_length=1, max_length=500)


class PackBody(_Body):
    packages: list[PackageBody] = Field(min_length=1, max_length=200)


class ShipBody(_Body):
    carrier: Keyword
    service_level: Keyword | None = None
    packages: list[PackageTrackingBody] = Field(
        default_factory=list,
        max_length=200,
        description="tracking known only now, per package (packages not named keep what "
        "they were packed with)",
    )
    tracking_numbers: list[Identifier] = Field(
        default_factory=list,
        max_length=200,
        description="for the whole shipment (e.g. a consignment number); the shipment "
        "lists its packages' tracking numbers first, then these",
    )
