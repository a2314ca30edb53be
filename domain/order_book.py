"""The order as an aggregate: every state change of an order, its reservations,
holds, payment deadline and (through domain/order_requests.py) its fulfillment
requests. The workflow runs the activities and hands their results here.

Pure and deterministic: no I/O, no clock (the workflow passes `now`). Every unit of
every line stays in one bucket (LineBook.move refuses what would break that)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta

from contracts.orders import (
    AllocateResult,
    AllocationView,
    HoldInput,
    HoldView,
    LineNeed,
    LineView,
    OrderInput,
    OrderState,
    OrderView,
    PickStockResult,
    PutBackOne,
    ReservationState,
    ReserveLinesResult,
    ShipInput,
)
from domain.errors import InvalidInput
from domain.order_requests import (
    ENDED_UNSHIPPED,
    NotYet,
    OnHold,
    PickPlan,
    Step,
    WarehouseBook,
)
from domain.orders import (
    OPEN_BUCKETS,
    AllocationStatus,
    Bucket,
    FulfillmentPolicy,
    LineBook,
    OrderStatus,
    PaymentStatus,
    RequestStatus,
)
from domain.stock import InvalidTransition

__all__ = ["NotYet", "OnHold", "OrderBook", "Step"]

DEFAULT_TTL = 900  # seconds an unpaid order holds its stock when none is given
MAX_EXTENSION = 7 * 24 * 3600  # seconds one extension may add
PAYMENT_EXPIRED = "payment was not authorized before the reservation expired"


@dataclass
class Reservation:
    line_id: str
    warehouse: str
    open: int  # not yet allocated


@dataclass
class OrderBook(WarehouseBook):
    """One order's state. Transitions are methods named after what happened
    (`reserved`, `allocated`, `picked`...); `check_*` say whether a step may happen."""

    reservations: dict[int, Reservation] = field(default_factory=dict)
    payment: PaymentStatus = PaymentStatus.AUTHORIZED
    deadline: datetime | None = None  # an unpaid order's stock is held until then
    restocked: bool = False  # stock arrived for one of its items since it last reserved
    unstaged: list[str] = field(default_factory=list)  # warehouses that cannot stage
    pulled: set[int] = field(default_factory=set)  # allocations a lot hold released

    @classmethod
    def open(cls, order: OrderInput, workflow_id: str) -> OrderBook:
        book = cls(
            order=dataclasses.replace(order, carried=None),
            workflow_id=workflow_id,
            payment=order.payment.status,
        )
        book.books = {line.line_id: LineBook.new(line.quantity) for line in order.lines}
        return book

    @classmethod
    def resume(cls, order: OrderInput, workflow_id: str, state: OrderState) -> OrderBook:
        """The book a previous run carried over (continue-as-new)."""
        view = state.view
        book = cls.open(order, workflow_id)
        book.books = {
            line.line_id: LineBook(**{f.name: getattr(line, f.name) for f in fields(LineBook)})
            for line in view.lines
        }
        book.reservations = {
            r.reservation_id: Reservation(r.line_id, r.warehouse, r.open)
            for r in state.reservations
        }
        book.requests = {r.id: r for r in view.fulfillment_requests}
        book.origins, book.staging = dict(state.origins), dict(state.staging)
        book.holds, book.shipments = list(view.holds), list(view.shipments)
        book.status, book.payment, book.version = view.status, view.payment_status, view.version
        expires = view.reservation_expires_at
        book.deadline = datetime.fromisoformat(expires) if expires else None
        book.cancel_reason, book.restocked = view.cancel_reason, state.restocked
        book.pulled = set(state.pulled)
        return book

    def snapshot(self) -> OrderState:
        return OrderState(
            view=self.view(),
            reservations=[
                ReservationState(
                    reservation_id=rid, line_id=r.line_id, warehouse=r.warehouse, open=r.open
                )
                for rid, r in self.reservations.items()
            ],
            origins=dict(self.origins),
            staging=dict(self.staging),
            restocked=self.restocked,
            pulled=sorted(self.pulled),
        )

    # -- reading -----------------------------------------------------------------

    def wants_complete(self) -> bool:
        return self.order.fulfillment_policy is FulfillmentPolicy.SHIP_COMPLETE

    def nothing_left(self) -> bool:
        """Nothing is open, waiting or shipped: the order has nothing to fulfil."""
        return not any(b.open or b.backordered or b.shipped for b in self.books.values())

    def lines_ready_to_ship(self) -> set[str]:
        """Lines whose reserved stock may go to the warehouse now. With `backorder`
        a line ships complete: while part of it waits, its reserved part is held."""
        if self.order.fulfillment_policy is not FulfillmentPolicy.BACKORDER:
            return set(self.books)
        return {
            line_id for line_id, b in self.books.items() if b.backordered == 0 and b.pending == 0
        }

    def view(self) -> OrderView:
        lines = [
            LineView(
                line_id=line.line_id,
                sku=line.sku,
                unit_price=line.unit_price,
                **asdict(self.books[line.line_id]),
            )
            for line in self.order.lines
        ]
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
            reservation_expires_at=self.deadline.isoformat() if self.deadline else None,
            lines=lines,
            holds=list(self.holds),
            fulfillment_requests=list(self.requests.values()),
            shipments=list(self.shipments),
            cancel_reason=self.cancel_reason,
            version=self.version,
            shipping=o.shipping(),
        )

    def settle_status(self) -> None:
        """The status that follows from the books (when nothing else decides it)."""
        shipped, waiting = self.total(Bucket.SHIPPED), self.total(Bucket.BACKORDERED)
        if self.status in ENDED_UNSHIPPED:
            return
        if shipped and not (waiting or any(b.open for b in self.books.values())):
            self.status = OrderStatus.SHIPPED  # done (no hold can stop a shipped order)
        elif self.active_holds:
            self.status = OrderStatus.ON_HOLD
        elif shipped:
            self.status = OrderStatus.PARTIALLY_SHIPPED
        elif self.total(Bucket.PICKED) or self.total(Bucket.PACKED) or self.any_accepted():
            self.status = OrderStatus.IN_FULFILLMENT
        elif self.total(Bucket.ALLOCATED):
            self.status = OrderStatus.ALLOCATED
        elif waiting:
            self.status = OrderStatus.BACKORDERED
        elif self.payment is PaymentStatus.PENDING and self.total(Bucket.RESERVED):
            self.status = OrderStatus.PENDING_PAYMENT

    def shipped_view(self, data: ShipInput, shipped_at: str) -> OrderView:
        """The view once `data`'s request has shipped, the book unchanged: what the
        shipping step projects with the stock it moves, before it is booked."""
        return self._preview(lambda book: book.shipped(data, shipped_at))

    def picked_view(self, plan: PickPlan) -> OrderView:
        """The view once `plan` (no short line) is picked, the book unchanged; each
        new allocation is named by minus its source's id until the pick names it
        (with_picked_ids)."""
        named = PickStockResult(
            picked={p.allocation_id: -p.allocation_id for p in plan.stock.picks}
        )

        def pick(book: OrderBook) -> None:
            book.picked(plan, named)
            book.pick_done(plan)

        return self._preview(pick)

    def _preview(self, step: Callable[[OrderBook], None]) -> OrderView:
        book = copy.deepcopy(self)
        step(book)
        book.settle_status()
        return book.view()

    # -- reserving and allocating ------------------------------------------------------

    def needs(self) -> list[LineNeed]:
        """What is still to be reserved, line by line."""
        return [
            LineNeed(line_id=line.line_id, sku=line.sku, quantity=self.books[line.line_id].pending)
            for line in self.order.lines
            if self.books[line.line_id].pending > 0
        ]

    def watch_stock(self) -> None:
        """Stock arriving from now on wakes the next wait."""
        self.restocked = False

    def reserved(self, result: ReserveLinesResult, now: datetime) -> str | None:
        """Book a reservation round: what was had is reserved, what may wait is
        backordered, the rest canceled. Returns why the order must be rejected, if so."""
        refused: list[str] = []
        for line in result.lines:
            books = self.books[line.line_id]
            for part in line.parts:
                books.move(Bucket.PENDING, Bucket.RESERVED, part.quantity)
                self.reservations[part.reservation_id] = Reservation(
                    line.line_id, part.warehouse, part.quantity
                )
            books.move(Bucket.PENDING, Bucket.BACKORDERED, line.may_wait)
            books.move(Bucket.PENDING, Bucket.CANCELED, line.short - line.may_wait)
            if line.short > line.may_wait:
                short = line.short - line.may_wait
                refused.append(f"{line.line_id} ({self.sku(line.line_id)}) short {short}")
        if self.total(Bucket.RESERVED):
            self.start_payment_clock(now)
        if self.nothing_left() or (refused and self.wants_complete()):
            policy = self.order.fulfillment_policy.value
            return f"not enough stock ({policy}) and the item may not be backordered: " + (
                ", ".join(refused) or "nothing left to fulfil"
            )
        return None

    def allocatable(self) -> list[int]:
        """The reservations to allocate now (open, of lines ready to ship)."""
        ready = self.lines_ready_to_ship()
        return [rid for rid, r in self.reservations.items() if r.open > 0 and r.line_id in ready]

    def allocated(self, result: AllocateResult) -> None:
        """Allocated stock becomes one new fulfillment request per warehouse."""
        self.unstaged = sorted(result.unstaged)
        fresh: dict[str, str] = {}  # warehouse: its new request
        for a in result.allocations:
            reservation = self.reservations[a.reservation_id]
            reservation.open -= a.quantity
            self.books[reservation.line_id].move(Bucket.RESERVED, Bucket.ALLOCATED, a.quantity)
            if a.warehouse not in fresh:
                fresh[a.warehouse] = self.new_request(a.warehouse).id
            self.add_to_request(
                self.requests[fresh[a.warehouse]],
                AllocationView(
                    allocation_id=a.allocation_id,
                    reservation_id=a.reservation_id,
                    line_id=reservation.line_id,
                    location=a.location,
                    lot=a.lot,
                    serial=a.serial,
                    quantity=a.quantity,
                    status=AllocationStatus.ALLOCATED,
                ),
            )
        self.staging.update(result.staging)
        self._apply_pulls()  # a hold may have pulled them before this result came

    def gave_back(self, shortfall: dict[int, int]) -> None:
        """Reserved stock no pickable place holds was released: it waits for stock."""
        for reservation_id, quantity in sorted(shortfall.items()):
            reservation = self.reservations[reservation_id]
            reservation.open -= quantity
            self.books[reservation.line_id].move(Bucket.RESERVED, Bucket.BACKORDERED, quantity)

    def stock_pulled(self, allocation_ids: list[int]) -> None:
        """A lot hold released these allocations (not yet picked): their quantity is
        asked for again, as after a short pick; a request left with nothing is
        canceled."""
        self.pulled.update(allocation_ids)
        self._apply_pulls()

    def _apply_pulls(self) -> None:
        for request in self.requests.values():
            pulled = [
                a
                for a in self.allocations(request, AllocationStatus.ALLOCATED)
                if a.allocation_id in self.pulled
            ]
            for a in pulled:
                self.books[a.line_id].move(Bucket.ALLOCATED, Bucket.PENDING, a.quantity)
                self._line(request, a.line_id).quantity -= a.quantity
                a.quantity, a.status = 0, AllocationStatus.RELEASED
                self.restocked = True  # wakes a wait for stock too
            left = self.allocations(request, AllocationStatus.ALLOCATED) + self.allocations(
                request, AllocationStatus.PICKED
            )
            if pulled and not left and not request.status.is_final:
                request.status = RequestStatus.CANCELED

    def stock_arrived(self, sku: str) -> None:
        if any(line.sku == sku for line in self.order.lines):
            self.restocked = True

    def restock(self) -> None:
        """Woken: what waited is asked for again."""
        for books in self.books.values():
            books.move(Bucket.BACKORDERED, Bucket.PENDING, books.backordered)

    # -- payment -------------------------------------------------------------------

    def start_payment_clock(self, now: datetime) -> None:
        """An unpaid order holds stock for ttl_seconds from when it first holds any."""
        if self.deadline is None and self.payment is PaymentStatus.PENDING:
            ttl = self.order.payment.ttl_seconds or DEFAULT_TTL
            self.deadline = now + timedelta(seconds=ttl)

    def payment_overdue(self, now: datetime) -> bool:
        return (
            self.payment is PaymentStatus.PENDING
            and self.deadline is not None
            and now >= self.deadline
            and self.cancel_asked is None
        )

    def awaiting_payment(self, now: datetime) -> None:
        self.start_payment_clock(now)
        self.status = OrderStatus.PENDING_PAYMENT

    def check_payment(self) -> None:
        if self.payment is not PaymentStatus.PENDING:
            raise InvalidTransition("payment is already authorized")
        self.check_open()

    def authorized(self) -> None:
        self.payment = PaymentStatus.AUTHORIZED

    def check_extension(self, seconds: int) -> None:
        waiting = self.status is OrderStatus.PENDING_PAYMENT and self.deadline is not None
        if self.payment is not PaymentStatus.PENDING or not waiting or self.closing:
            raise InvalidTransition("only a reservation waiting for payment can be extended")
        if not 0 < seconds <= MAX_EXTENSION:
            raise InvalidTransition(f"seconds must be between 1 and {MAX_EXTENSION}")

    def extend(self, seconds: int, now: datetime) -> str:
        assert self.deadline is not None
        self.deadline = max(self.deadline, now) + timedelta(seconds=seconds)
        return self.deadline.isoformat()

    # -- holds ---------------------------------------------------------------------

    def check_hold(self, data: HoldInput) -> None:
        self.check_open()
        if Step.SHIP in self.underway.values():  # it could not stop what is leaving
            raise InvalidTransition(
                f"order {self.order.order_number} is being shipped; place the hold after it"
            )
        if not data.code.strip():
            raise InvalidTransition("a hold needs a code")

    def hold(self, data: HoldInput) -> HoldView:
        hold = HoldView(
            id=f"H{len(self.holds) + 1}", code=data.code, reason=data.reason, blocks=data.blocks
        )
        self.holds.append(hold)
        self.settle_status()
        return hold

    def check_release(self, hold_id: str) -> None:
        if not any(h.id == hold_id and h.active for h in self.holds):
            raise InvalidTransition(f"no active hold {hold_id!r}")

    def find_hold(self, hold_id: str) -> HoldView:
        return next(h for h in self.holds if h.id == hold_id)

    def release(self, hold_id: str) -> HoldView:
        """The hold ends; with none left the order goes on where it was."""
        hold = self.find_hold(hold_id)
        hold.active = False
        self.settle_status()
        return hold

    # -- the end -----------------------------------------------------------------------

    def check_cancel(self, reason: str) -> None:
        if self.status.is_final or self.cancel_asked is not None or self.closing:
            raise InvalidTransition(f"order {self.order.order_number} is already {self.status}")
        if Step.SHIP in self.underway.values():
            raise InvalidTransition(f"order {self.order.order_number} is being shipped")
        if not any(b.open or b.backordered for b in self.books.values()):
            raise InvalidTransition(
                f"order {self.order.order_number} has shipped; request a return"
            )
        self.check_not_held(Step.CANCEL)
        if not reason.strip():
            raise InvalidInput("a cancel needs a reason", field="reason")

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_asked is not None

    def ask_cancel(self, reason: str) -> None:
        # The validator refuses a blank reason, but a cancel accepted before it did
        # still replays here: such an order must close, not fail its task forever.
        self.cancel_asked = reason.strip() or "canceled on request (no reason given)"

    def begin_closing(self) -> None:
        self.closing = True

    def to_put_back(self) -> list[PutBackOne]:
        """Picked goods, each back to the location it was picked from."""
        return [
            PutBackOne(allocation_id=a.allocation_id, to_location=self.origins[a.allocation_id])
            for a in self.open_allocations(AllocationStatus.PICKED)
        ]

    def to_deallocate(self) -> list[int]:
        return [a.allocation_id for a in self.open_allocations(AllocationStatus.ALLOCATED)]

    def compensated(self, status: OrderStatus, reason: str) -> None:
        """Everything given back: open requests canceled, every open or waiting
        quantity canceled; the order ends with `status` and says why."""
        for request in self.requests.values():
            if request.status is not RequestStatus.SHIPPED:
                request.status = RequestStatus.CANCELED
            for a in request.allocations:
                if a.status in (AllocationStatus.ALLOCATED, AllocationStatus.PICKED):
                    a.status, a.quantity = AllocationStatus.RELEASED, 0
        for r in self.reservations.values():
            r.open = 0
        for books in self.books.values():
            for bucket in (*OPEN_BUCKETS, Bucket.BACKORDERED):
                books.move(bucket, Bucket.CANCELED, books.get(bucket))
        self.close(status, reason=reason)

    def close(self, status: OrderStatus, *, reason: str) -> None:
        """End the order as canceled, expired or rejected: never without a reason
        (the shop's, the deadline's, or the step that refused)."""
        if status not in ENDED_UNSHIPPED:
            raise InvalidTransition(f"an order is not closed as {status}")
        if not reason.strip():
            raise InvalidTransition(f"an order {status} needs a reason")
        self.status = status
        self.cancel_reason = reason


def with_picked_ids(view: OrderView, picked: dict[int, int]) -> None:
    """Names each allocation a picked_view named by minus its source's id by the one
    the pick made (`picked`: source id -> new id)."""
    for request in view.fulfillment_requests:
        for a in request.allocations:
            if a.allocation_id < 0:
                a.allocation_id = picked[-a.allocation_id]
