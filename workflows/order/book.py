"""The order workflow's state, kept apart from the workflow class so the class
reads as the story. Pure and deterministic: no I/O, no clock."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from contracts.orders import (
    AllocationView,
    HoldView,
    LineView,
    OrderInput,
    OrderView,
    PickInput,
    RequestLineView,
    RequestView,
    ShipmentView,
)
from domain.orders import Bucket, FulfillmentPolicy, LineBook, OrderStatus, PaymentStatus
from domain.stock import InvalidTransition

FINAL_REQUEST = ("shipped", "canceled")
# How an order ends without shipping what is left; each says why (cancel_reason).
ENDED_UNSHIPPED = (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


@dataclass
class Reservation:
    line_id: str
    warehouse: str
    open: int


@dataclass
class OrderBook:
    order: OrderInput
    workflow_id: str
    books: dict[str, LineBook] = field(default_factory=dict)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    requests: dict[str, RequestView] = field(default_factory=dict)
    origins: dict[int, str] = field(default_factory=dict)  # picked allocation: source
    holds: list[HoldView] = field(default_factory=list)
    shipments: list[ShipmentView] = field(default_factory=list)
    status: OrderStatus = OrderStatus.RECEIVED
    payment: PaymentStatus = PaymentStatus.AUTHORIZED
    expires_at: str | None = None
    cancel_reason: str | None = None
    version: int = 0

    @classmethod
    def open(cls, order: OrderInput, workflow_id: str) -> OrderBook:
        book = cls(order, workflow_id, payment=order.payment.status)
        book.books = {line.line_id: LineBook.new(line.quantity) for line in order.lines}
        return book

    # -- reading -----------------------------------------------------------------

    def total(self, bucket: Bucket) -> int:
        return sum(b.get(bucket) for b in self.books.values())

    def sku(self, line_id: str) -> str:
        return next(line.sku for line in self.order.lines if line.line_id == line_id)

    @property
    def active_holds(self) -> list[HoldView]:
        return [hold for hold in self.holds if hold.active]

    @property
    def in_warehouse(self) -> bool:
        """Some quantity is allocated, picked or packed: requests are open."""
        return any(self.total(b) for b in (Bucket.ALLOCATED, Bucket.PICKED, Bucket.PACKED))

    def request(self, request_id: str) -> RequestView:
        if request_id not in self.requests:
            raise InvalidTransition(f"no fulfillment request {request_id!r} in this order")
        return self.requests[request_id]

    def allocations(self, request: RequestView, line_id: str, status: str) -> list[AllocationView]:
        return [
            a
            for a in request.allocations
            if a.line_id == line_id and a.status == status and a.quantity > 0
        ]

    # -- checks behind the update validators ---------------------------------------

    def check_pick(self, data: PickInput) -> None:
        request = self.request(data.request_id)
        if request.status != "accepted":
            raise InvalidTransition(f"request {request.id} is {request.status}; accept it first")
        totals: dict[str, int] = {}
        for n, line in enumerate(data.lines):
            candidates = self.allocations(request, line.line_id, "allocated")
            if line.line_id not in {x.line_id for x in request.lines}:
                raise InvalidTransition(f"lines.{n}: line {line.line_id!r} is not in {request.id}")
            if line.lot is not None:
                candidates = [a for a in candidates if a.lot == line.lot]
            if line.location is not None:
                candidates = [a for a in candidates if a.location == line.location]
            allocated = sum(a.quantity for a in candidates)
            if not 0 <= line.quantity <= allocated:
                raise InvalidTransition(
                    f"lines.{n}: {line.quantity} picked, but {allocated} allocated"
                    + (f" in lot {line.lot}" if line.lot else "")
                    + (f" at {line.location}" if line.location else "")
                )
            if line.serials and (
                len(line.serials) != line.quantity
                or set(line.serials) - {a.serial for a in candidates}
            ):
                raise InvalidTransition(f"lines.{n}: serials do not match the allocation")
            totals[line.line_id] = totals.get(line.line_id, 0) + line.quantity
        for line_id, total in totals.items():
            allocated = sum(a.quantity for a in self.allocations(request, line_id, "allocated"))
            if total > allocated:
                raise InvalidTransition(f"line {line_id!r}: {total} picked, {allocated} allocated")

    # -- the view ------------------------------------------------------------------

    def view(self) -> OrderView:
        lines = []
        for line in self.order.lines:
            b = self.books[line.line_id]
            lines.append(
                LineView(
                    line_id=line.line_id, sku=line.sku, unit_price=line.unit_price, **asdict(b)
                )
            )
        o = self.order
        return OrderView(
            tenant_id=o.tenant_id,
            order_number=o.order_number,
            workflow_id=self.workflow_id,
            customer_id=o.customer_id,
            currency=o.currency,
            status=self.status,
            fulfillment_policy=o.fulfillment_policy,
            priority=o.priority,
            payment_status=self.payment,
            reservation_expires_at=self.expires_at,
            lines=lines,
            holds=list(self.holds),
            fulfillment_requests=list(self.requests.values()),
            shipments=list(self.shipments),
            cancel_reason=self.cancel_reason,
            version=self.version,
            shipping=o.shipping(),
        )

    def close(self, status: OrderStatus, *, reason: str) -> None:
        """End the order as canceled, expired or rejected: never without a reason
        (the shop's, the deadline's, or the step that refused)."""
        if status not in ENDED_UNSHIPPED:
            raise InvalidTransition(f"an order is not closed as {status}")
        if not reason.strip():
            raise InvalidTransition(f"an order {status} needs a reason")
        self.status = status
        self.cancel_reason = reason

    def settle_status(self) -> None:
        """The status that follows from the books (when nothing else decides it)."""
        shipped, waiting = self.total(Bucket.SHIPPED), self.total(Bucket.BACKORDERED)
        if self.status in ENDED_UNSHIPPED:
            return
        if shipped and not (waiting or any(b.open for b in self.books.values())):
            self.status = OrderStatus.SHIPPED  # done, whatever holds were left on it
        elif self.active_holds:
            self.status = OrderStatus.ON_HOLD
        elif shipped:
            self.status = OrderStatus.PARTIALLY_SHIPPED
        elif self.total(Bucket.PICKED) or self.total(Bucket.PACKED) or self._accepted():
            self.status = OrderStatus.IN_FULFILLMENT
        elif self.total(Bucket.ALLOCATED):
            self.status = OrderStatus.ALLOCATED
        elif waiting:
            self.status = OrderStatus.BACKORDERED
        elif self.payment is PaymentStatus.PENDING and self.total(Bucket.RESERVED):
            self.status = OrderStatus.PENDING_PAYMENT

    def _accepted(self) -> bool:
        return any(r.status == "accepted" for r in self.requests.values())

    def new_request(self, warehouse: str) -> RequestView:
        number = len(self.requests) + 1
        request = RequestView(
            id=f"{self.order.order_number}-{warehouse}-{number}",
            warehouse=warehouse,
            status="requested",
            lines=[],
            allocations=[],
        )
        self.requests[request.id] = request
        return request

    def add_to_request(self, request: RequestView, allocation: AllocationView) -> None:
        request.allocations.append(allocation)
        line = next((x for x in request.lines if x.line_id == allocation.line_id), None)
        if line is None:
            line = RequestLineView(
                line_id=allocation.line_id, sku=self.sku(allocation.line_id), quantity=0
            )
            request.lines.append(line)
        line.quantity += allocation.quantity

    def lines_ready_to_ship(self) -> set[str]:
        """Lines whose reserved stock may go to the warehouse now. With `backorder`
        a line ships complete: while part of it waits, its reserved part is held."""
        if self.order.fulfillment_policy is not FulfillmentPolicy.BACKORDER:
            return set(self.books)
        return {
            line_id for line_id, b in self.books.items() if b.backordered == 0 and b.pending == 0
        }

    def wants_complete(self) -> bool:
        return self.order.fulfillment_policy is FulfillmentPolicy.SHIP_COMPLETE

    def requests_done(self) -> bool:
        return all(r.status in FINAL_REQUEST for r in self.requests.values())
