"""Invariant 5 of the order's books under ANY sequence of steps: every unit of every
line is in exactly one bucket (ordered = open + backordered + shipped + canceled)
and no bucket is negative. Hypothesis drives the aggregate as the workflow would,
with random activity answers, and tries every step the checks let through."""

from collections.abc import Callable
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from contracts.orders import HoldInput, PickInput, PickLineInput, ShipInput
from domain.errors import DomainError
from domain.order_book import OrderBook
from domain.orders import Bucket, FulfillmentPolicy, OrderStatus, PaymentStatus, RequestStatus
from tests.unit.order_book_steps import allocate, new_book, pack_input, pick, reserve

T = TypeVar("T")

OPEN = (Bucket.PENDING, Bucket.RESERVED, Bucket.ALLOCATED, Bucket.PICKED, Bucket.PACKED)


class OrderSteps(RuleBasedStateMachine):
    book: OrderBook

    @initialize(
        quantities=st.lists(st.integers(1, 6), min_size=1, max_size=3),
        policy=st.sampled_from(FulfillmentPolicy),
        payment=st.sampled_from(PaymentStatus),
    )
    def place(
        self, quantities: list[int], policy: FulfillmentPolicy, payment: PaymentStatus
    ) -> None:
        self.book = new_book(tuple(quantities), policy=policy, payment=payment)

    def _live(self) -> bool:
        return not self.book.closing and not self.book.status.is_final

    @rule(sku=st.sampled_from(["SKU0", "SKU1", "OTHER"]))
    def stock_arrived(self, sku: str) -> None:
        self.book.stock_arrived(sku)  # (any time, even closed: a late signal)

    @precondition(lambda self: self._live() and bool(self.book.needs()))
    @rule(had=st.integers(0, 6), may_wait=st.booleans())
    def reserve(self, had: int, may_wait: bool) -> None:
        self.book.watch_stock()
        rejection = reserve(self.book, {n.line_id: had for n in self.book.needs()}, may_wait)
        if rejection:
            self._close(OrderStatus.REJECTED, rejection)
        else:
            self.book.settle_status()

    @precondition(lambda self: self._live() and bool(self.book.allocatable()))
    @rule(shortfall=st.integers(0, 2))
    def allocate(self, shortfall: int) -> None:
        first = self.book.reservations[self.book.allocatable()[0]]
        allocate(self.book, min(shortfall, first.open))
        self.book.settle_status()

    @precondition(lambda self: self._live())
    @rule()
    def restock(self) -> None:
        self.book.restock()

    @precondition(lambda self: self._live() and bool(self.book.requests))
    @rule(data=st.data())
    def warehouse_step(self, data: st.DataObject) -> None:
        """Accept, pick (some), pack or ship a request, if its checks allow."""
        rid = data.draw(st.sampled_from(sorted(self.book.requests)))
        request = self.book.requests[rid]
        # Only the checks may refuse (a hold, a step out of order); a transition
        # after a check that passed must not raise, or the machine fails.
        if request.status is RequestStatus.REQUESTED:
            if allowed(self.book.check_accept, rid):
                self.book.accepted(rid)
        elif request.status is RequestStatus.ACCEPTED:
            found = {x.line_id: data.draw(st.integers(0, x.quantity)) for x in request.lines}
            lines = [PickLineInput(line_id=k, quantity=v) for k, v in found.items()]
            if allowed(self.book.check_pick, PickInput(request_id=rid, lines=lines)):
                pick(self.book, rid, found)
        elif request.status is RequestStatus.PICKED:
            if allowed(self.book.check_pack, pack_input(self.book, rid)):
                self.book.packed(pack_input(self.book, rid))
        elif request.status is RequestStatus.PACKED:
            ship = ShipInput(request_id=rid, carrier="DHL")
            if allowed(self.book.check_ship, ship):
                self.book.shipped(ship, "2030-01-01T00:00Z")
        self.book.settle_status()

    @precondition(lambda self: self._live())
    @rule(hold=st.booleans())
    def hold_or_release(self, hold: bool) -> None:
        fraud = HoldInput(code="fraud", reason="check")
        if hold:
            if allowed(self.book.check_hold, fraud):
                self.book.hold(fraud)
        elif self.book.active_holds:
            self.book.release(self.book.active_holds[0].id)

    @precondition(lambda self: self._live())
    @rule(status=st.sampled_from([OrderStatus.CANCELED, OrderStatus.EXPIRED]))
    def close(self, status: OrderStatus) -> None:
        if allowed(self.book.check_cancel, "changed my mind"):
            self._close(status, "changed my mind")

    def _close(self, status: OrderStatus, reason: str) -> None:
        self.book.begin_closing()
        self.book.compensated(status, reason)

    @invariant()
    def every_unit_is_in_one_bucket_and_none_is_negative(self) -> None:
        for line in self.book.view().lines:
            books = self.book.books[line.line_id]
            assert books.balanced(), books
            open_ = sum(books.get(b) for b in OPEN)
            assert line.ordered == open_ + line.backordered + line.shipped + line.canceled

    @invariant()
    def a_closed_order_has_nothing_open_and_a_shipped_one_nothing_left(self) -> None:
        if self.book.closing:
            assert all(b.open == 0 and b.backordered == 0 for b in self.book.books.values())
        if self.book.status is OrderStatus.SHIPPED:
            assert self.book.total(Bucket.SHIPPED) > 0
            assert not any(b.open or b.backordered for b in self.book.books.values())

    @invariant()
    def the_carried_state_resumes_the_same_order(self) -> None:
        state = self.book.snapshot()
        again = OrderBook.resume(self.book.order, self.book.workflow_id, state)
        assert again.view() == self.book.view()


def allowed(check: Callable[[T], None], arg: T) -> bool:
    """Whether the check lets the step through (a refusal changes nothing)."""
    try:
        check(arg)
    except DomainError:
        return False
    return True


OrderSteps.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestOrderSteps = OrderSteps.TestCase
