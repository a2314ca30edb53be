"""What goes in and out of the order workflow: its input, its updates, and the view
its `status` query returns. One input, one result each (fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.shipping import (
    Address,
    PackageInput,
    PackageTracking,
    PackageView,
    Shipping,
    legacy_address,
)
from domain.orders import (
    AllocationStatus,
    FulfillmentPolicy,
    HoldBlocks,
    OrderStatus,
    PaymentStatus,
    RequestStatus,
)


def order_workflow_id(tenant_id: int, order_number: str) -> str:
    return f"order:{tenant_id}:{order_number}"


def order_number_of(workflow_id: str) -> str | None:
    """The order number an order workflow's id names (None: not an order's)."""
    kind, _, rest = workflow_id.partition(":")
    tenant, _, number = rest.partition(":")
    return number if kind == "order" and tenant.isdigit() and number else None


@dataclass(frozen=True, kw_only=True)
class OrderLineInput:
    line_id: str
    sku: str
    quantity: int  # base units
    unit_price: str  # decimal, as text


@dataclass(frozen=True, kw_only=True)
class PaymentInput:
    status: PaymentStatus = PaymentStatus.AUTHORIZED
    ttl_seconds: int | None = None  # with pending: how long stock stays reserved


@dataclass(frozen=True, kw_only=True)
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
    ship_to: dict[str, str] = field(default_factory=dict)  # flat: orders placed before `address`
    request_hash: str = ""
    address: Address | None = None  # where it ships (validated)
    shipping_method: str | None = None
    requested_ship_at: str | None = None  # RFC 3339
    requested_delivery_at: str | None = None

    def shipping(self) -> Shipping:
        """What the warehouse needs to ship it (on the order and its requests)."""
        return Shipping(
            customer_id=self.customer_id,
            priority=self.priority,
            ship_to=self.address or legacy_address(self.ship_to),
            shipping_method=self.shipping_method,
            requested_ship_at=self.requested_ship_at,
            requested_delivery_at=self.requested_delivery_at,
        )

    # A run continued as new carries the order's whole state (absent in a first run)
    carried: OrderState | None = None


# -- updates -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CancelInput:
    reason: str


@dataclass(frozen=True, kw_only=True)
class HoldInput:
    code: str
    reason: str
    blocks: HoldBlocks = HoldBlocks.FULFILLMENT


@dataclass(frozen=True, kw_only=True)
class ReleaseHoldInput:
    hold_id: str


@dataclass(frozen=True, kw_only=True)
class AuthorizePaymentInput:
    amount: str
    reference: str


@dataclass(frozen=True, kw_only=True)
class ExtendReservationInput:
    seconds: int


@dataclass(frozen=True, kw_only=True)
class ExtendReservationResult:
    expires_at: str  # RFC 3339


@dataclass(frozen=True, kw_only=True)
class RequestInput:
    request_id: str


@dataclass(frozen=True, kw_only=True)
class PickLineInput:
    line_id: str
    quantity: int  # base units; less than allocated is a short pick
    lot: str | None = None
    location: str | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class PickInput:
    request_id: str
    lines: list[PickLineInput]
    actor: str = ""  # the confirming API key (Principal.actor); "" in older histories


@dataclass(frozen=True, kw_only=True)
class PackInput:
    request_id: str
    packages: list[PackageInput]


@dataclass(frozen=True, kw_only=True)
class ShipInput:
    request_id: str
    carrier: str
    service_level: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)  # for the whole shipment
    actor: str = ""  # the confirming API key (Principal.actor); "" in older histories
    packages: list[PackageTracking] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class StockArrivedInput:
    sku: str


@dataclass(frozen=True, kw_only=True)
class StockPulledInput:
    """Allocations of a lot put on hold were released: the order asks again."""

    allocation_ids: list[int]
    lot: str = ""


# -- the view ------------------------------------------------------------------------


@dataclass(kw_only=True)
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


@dataclass(kw_only=True)
class HoldView:
    id: str
    code: str
    reason: str
    active: bool = True
    blocks: HoldBlocks = HoldBlocks.FULFILLMENT


@dataclass(kw_only=True)
class AllocationView:
    allocation_id: int
    reservation_id: int | None
    line_id: str
    location: str
    lot: str | None
    serial: str | None
    quantity: int  # open quantity
    status: AllocationStatus


@dataclass(kw_only=True)
class RequestLineView:
    line_id: str
    sku: str
    quantity: int  # allocated to this request
    picked: int = 0
    packed: int = 0
    shipped: int = 0


@dataclass(kw_only=True)
class ShipmentView:
    request_id: str
    carrier: str
    service_level: str | None
    tracking_numbers: list[str]
    packages: list[PackageView]
    shipped_at: str


@dataclass(kw_only=True)
class RequestView:
    id: str
    warehouse: str
    status: RequestStatus
    lines: list[RequestLineView]
    allocations: list[AllocationView]
    packages: list[PackageView] = field(default_factory=list)


@dataclass(kw_only=True)
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
    shipping: Shipping | None = None  # None in views projected before it was shown


# -- activity inputs and results ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LineNeed:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class ReserveLinesInput:
    tenant_id: int
    key: str  # one per workflow round; each line adds its id
    order_number: str
    lines: list[LineNeed]
    preferred_warehouse: str | None
    allow_split: bool
    # (RESERVE_AND_ALLOCATE) When every line is reserved in full, allocate what was
    # reserved under this key, in the same activity (None: reserve only).
    allocate_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReservedPart:
    reservation_id: int
    warehouse: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class LineReservation:
    line_id: str
    parts: list[ReservedPart]
    short: int  # what could not be reserved
    may_wait: int  # of `short`, what the item's backorder policy lets wait


@dataclass(frozen=True, kw_only=True)
class ReserveLinesResult:
    lines: list[LineReservation]
    # The allocation of what was reserved, when `allocate_key` asked for it and it
    # was done; None: the allocation is a step of its own (under that key, if every
    # line was reserved in full and it failed here).
    allocated: AllocateResult | None = None

    @property
    def in_full(self) -> bool:
        """Every line was reserved in full (the reservation may allocate too)."""
        return not any(line.short for line in self.lines)


@dataclass(frozen=True, kw_only=True)
class KeyedIds:
    tenant_id: int
    key: str  # each id adds itself to it
    ids: list[int]
    actor: str = ""  # who the movements name ("": the workflow itself)


@dataclass(frozen=True, kw_only=True)
class OrderStockInput:
    """An order's lines, to give back what the books hold for them, and what the
    run's book knows it holds."""

    tenant_id: int
    key: str  # each allocation and reservation adds its id
    order_number: str
    line_ids: list[str]
    allocation_ids: list[int]  # allocated, not yet picked
    reservation_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class AllocatedStock:
    reservation_id: int
    allocation_id: int
    warehouse: str
    location: str
    lot: str | None
    serial: str | None
    quantity: int


@dataclass(frozen=True, kw_only=True)
class AllocateResult:
    allocations: list[AllocatedStock]
    shortfall: dict[int, int] = field(default_factory=dict)  # reservation id: quantity
    staging: dict[str, str] = field(default_factory=dict)  # warehouse: staging location
    # Warehouses that cannot stage picked goods (no active staging location): their
    # reservations were not allocated; a `setup` alert names each until it can.
    unstaged: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class PickOne:
    allocation_id: int
    quantity: int
    to_location: str


@dataclass(frozen=True, kw_only=True)
class PickStockInput:
    tenant_id: int
    key: str
    picks: list[PickOne]
    actor: str = ""  # who the movements name ("": the workflow itself)


@dataclass(frozen=True, kw_only=True)
class PickStockResult:
    picked: dict[int, int]  # source allocation id: new allocation id at staging


@dataclass(frozen=True, kw_only=True)
class ShortPickInput:
    tenant_id: int
    key: str
    allocation_id: int
    reservation_id: int | None
    quantity: int
    warehouse: str
    location: str
    sku: str
    lot: str | None
    reason: str
    serials: list[str] = field(default_factory=list)
    actor: str = ""  # who the movements name ("": the workflow itself)


@dataclass(frozen=True, kw_only=True)
class PutBackOne:
    allocation_id: int
    to_location: str


@dataclass(frozen=True, kw_only=True)
class PutBackInput:
    tenant_id: int
    key: str
    items: list[PutBackOne]


@dataclass(frozen=True, kw_only=True)
class ShipAndProjectInput:
    """Ship a request's staged stock, then write the order's view as it is once
    shipped (one activity for the step and the projection it causes)."""

    stock: KeyedIds  # the staged allocations, as ship_stock takes them
    view: OrderView  # the order after the shipment


@dataclass(frozen=True, kw_only=True)
class PickAndProjectInput:
    """Pick (no short line), then write the order's view as it is once picked."""

    stock: PickStockInput
    view: OrderView  # each new allocation named by minus its source's id


@dataclass(frozen=True, kw_only=True)
class ProjectStepsInput:
    """Views of consecutive steps of one order, written in their order in one
    transaction (project_order)."""

    views: list[OrderView]


@dataclass(frozen=True, kw_only=True)
class ProjectedResult:
    projected: bool  # False: the database refused the view (logged, not retried)
    picked: PickStockResult | None = None  # (pick_and_project) what the pick made


@dataclass(frozen=True, kw_only=True)
class RecordOrderInput:
    order: OrderInput
    workflow_id: str


# -- a run's state, carried into the next by continue-as-new ----------------------------


@dataclass(frozen=True, kw_only=True)
class ReservationState:
    reservation_id: int
    line_id: str
    warehouse: str
    open: int


@dataclass(frozen=True, kw_only=True)
class OrderState:
    """Everything an order's run knows that its input does not: the view (buckets,
    holds, requests, shipments, status, payment, deadline, version) and the books
    behind it."""

    view: OrderView
    reservations: list[ReservationState]
    origins: dict[int, str]  # picked allocation: the location it was picked from
    staging: dict[str, str]  # warehouse: staging location
    restocked: bool  # stock arrived since the last reservation round
    # The steps (update ids) earlier runs completed, and the hold each add_hold step
    # made: a repeat of one (its Idempotency-Key) is answered, not done again.
    steps_done: list[str] = field(default_factory=list)
    holds_by_step: dict[str, str] = field(default_factory=dict)
    pulled: list[int] = field(default_factory=list)  # allocations a lot hold released
