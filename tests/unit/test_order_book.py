"""The order aggregate's transitions, without Temporal: each step's effect on the
books, the checks behind every update validator, holds, and the carried state."""

from dataclasses import replace
from datetime import timedelta

import pytest

from contracts.orders import (
    AllocateResult,
    HoldInput,
    PackInput,
    PickInput,
    PickLineInput,
    PickStockResult,
    ShipInput,
)
from contracts.shipping import PackageInput, PackageLineInput
from domain.errors import InvalidInput
from domain.order_book import MAX_EXTENSION, PAYMENT_EXPIRED, NotYet, OnHold, OrderBook, Step
from domain.orders import (
    AllocationStatus,
    Bucket,
    FulfillmentPolicy,
    HoldBlocks,
    OrderStatus,
    PaymentStatus,
    RequestStatus,
)
from domain.stock import InvalidTransition
from tests.unit.order_book_steps import (
    NOW,
    allocate,
    first_request,
    new_book,
    pack_input,
    pick,
    reserve,
    ship,
)


def buckets(book: OrderBook, line_id: str = "L0") -> dict[str, int]:
    line = book.books[line_id]
    return {b.value: line.get(b) for b in Bucket if line.get(b)}


def allocated_book(*quantities: int) -> tuple[OrderBook, str]:
    book = new_book(quantities or (2,))
    assert reserve(book, {}) is None
    allocate(book)
    book.settle_status()
    return book, first_request(book)


def test_a_new_order_has_everything_pending_and_needs_it_reserved() -> None:
    book = new_book((2, 3))
    assert buckets(book) == {"pending": 2} and book.status is OrderStatus.RECEIVED
    assert [(n.line_id, n.quantity) for n in book.needs()] == [("L0", 2), ("L1", 3)]


def test_a_reservation_round_reserves_backorders_and_cancels_what_may_not_wait() -> None:
    book = new_book((5, 4))
    assert reserve(book, {"L0": 3, "L1": 1}, may_wait=True) is None
    assert buckets(book, "L0") == {"reserved": 3, "backordered": 2}
    book.settle_status()
    assert book.status is OrderStatus.BACKORDERED
    other = new_book((5,))
    assert reserve(other, {"L0": 3}, may_wait=False) is None
    assert buckets(other) == {"reserved": 3, "canceled": 2}


def test_nothing_to_be_had_or_awaited_is_a_rejection_with_why() -> None:
    book = new_book((2,))
    reason = reserve(book, {"L0": 0}, may_wait=False)
    assert reason is not None and "L0 (SKU0) short 2" in reason
    book.begin_closing()
    book.compensated(OrderStatus.REJECTED, reason)
    assert (book.status, buckets(book)) == (OrderStatus.REJECTED, {"canceled": 2})


def test_ship_complete_rejects_a_line_that_may_not_wait() -> None:
    book = new_book((2, 2), policy=FulfillmentPolicy.SHIP_COMPLETE)
    assert reserve(book, {"L1": 1}, may_wait=False) is not None


def test_an_unpaid_reservation_starts_the_payment_clock_once() -> None:
    book = new_book(payment=PaymentStatus.PENDING)
    reserve(book, {})
    assert book.deadline == NOW + timedelta(seconds=600)
    book.awaiting_payment(NOW + timedelta(seconds=5))
    assert book.deadline == NOW + timedelta(seconds=600)
    assert book.status is OrderStatus.PENDING_PAYMENT
    assert book.payment_overdue(NOW + timedelta(seconds=600))
    book.check_extension(60)
    assert book.extend(60, NOW) == (NOW + timedelta(seconds=660)).isoformat()
    with pytest.raises(InvalidTransition):
        book.check_extension(MAX_EXTENSION + 1)
    book.check_payment()
    book.authorized()
    with pytest.raises(InvalidTransition, match="already authorized"):
        book.check_payment()
    with pytest.raises(InvalidTransition):
        book.check_extension(60)
    assert not book.payment_overdue(NOW + timedelta(days=1))


def test_allocation_opens_one_request_per_warehouse_and_a_shortfall_waits() -> None:
    book = new_book((4,))
    reserve(book, {})
    allocate(book, shortfall=1)
    book.settle_status()
    assert buckets(book) == {"allocated": 3, "backordered": 1}
    [request] = book.requests.values()
    assert (request.id, request.status, request.lines[0].quantity) == (
        "SO-1-WH1-1",
        RequestStatus.REQUESTED,
        3,
    )
    assert book.status is OrderStatus.ALLOCATED
    book.restock()
    assert buckets(book) == {"allocated": 3, "pending": 1}


def test_an_unstaged_warehouse_allocates_nothing_and_is_remembered() -> None:
    book = new_book()
    reserve(book, {})
    book.allocated(AllocateResult(allocations=[], unstaged=["WH1"]))
    assert book.unstaged == ["WH1"] and buckets(book) == {"reserved": 2}
    allocate(book)
    assert book.unstaged == [] and buckets(book) == {"allocated": 2}


def test_backorder_policy_holds_a_short_line_whole() -> None:
    book = new_book((2, 3), policy=FulfillmentPolicy.BACKORDER)
    reserve(book, {"L1": 1})
    assert book.lines_ready_to_ship() == {"L0"}
    assert [book.reservations[r].line_id for r in book.allocatable()] == ["L0"]


def test_the_warehouse_steps_go_in_order_and_end_shipped() -> None:
    book, rid = allocated_book(2)
    with pytest.raises(InvalidTransition, match="accept it first"):
        book.check_pick(PickInput(request_id=rid, lines=[PickLineInput(line_id="L0", quantity=2)]))
    book.check_accept(rid)
    book.accepted(rid)
    book.settle_status()
    assert book.status is OrderStatus.IN_FULFILLMENT
    with pytest.raises(InvalidTransition, match="not requested"):
        book.check_accept(rid)
    pick(book, rid)
    assert buckets(book) == {"picked": 2}
    assert [a.status for a in book.requests[rid].allocations] == [
        AllocationStatus.ALLOCATED,
        AllocationStatus.PICKED,
    ]
    with pytest.raises(InvalidTransition, match="pack it first"):
        book.check_ship(ShipInput(request_id=rid, carrier="DHL"))
    book.check_pack(pack_input(book, rid))
    book.packed(pack_input(book, rid))
    with pytest.raises(InvalidTransition, match="carrier"):
        book.check_ship(ShipInput(request_id=rid, carrier=" "))
    assert len(book.to_ship(ShipInput(request_id=rid, carrier="DHL")).ids) == 1
    ship(book, rid)
    assert buckets(book) == {"shipped": 2}
    assert book.view().status is OrderStatus.SHIPPED
    assert len(book.shipments) == 1 and book.requests_done()
    with pytest.raises(InvalidTransition, match="shipped"):
        book.check_hold(HoldInput(code="fraud", reason="late"))
    with pytest.raises(InvalidTransition, match="shipped"):
        book.check_cancel("too late")


def test_a_short_pick_hands_the_missing_quantity_back_to_be_reserved_again() -> None:
    book, rid = allocated_book(3)
    book.accepted(rid)
    pick(book, rid, {"L0": 1})
    assert buckets(book) == {"picked": 1, "pending": 2}
    assert book.requests[rid].lines[0].quantity == 1
    empty, rid2 = allocated_book(2)
    empty.accepted(rid2)
    pick(empty, rid2, {"L0": 0})
    assert empty.requests[rid2].status is RequestStatus.CANCELED


def test_a_pick_more_than_allocated_or_of_another_line_is_refused() -> None:
    book, rid = allocated_book(2)
    book.accepted(rid)
    for lines, match in [
        ([PickLineInput(line_id="L0", quantity=3)], "3 picked, but 2 allocated"),
        ([PickLineInput(line_id="L9", quantity=1)], "not in"),
        ([PickLineInput(line_id="L0", quantity=2, lot="LOT-X")], "in lot LOT-X"),
        ([PickLineInput(line_id="L0", quantity=1, serials=["S1"])], "serials"),
        (
            [PickLineInput(line_id="L0", quantity=2), PickLineInput(line_id="L0", quantity=1)],
            "3 picked, 2 allocated",
        ),
    ]:
        with pytest.raises(InvalidTransition, match=match):
            book.check_pick(PickInput(request_id=rid, lines=lines))


def test_packages_must_hold_exactly_what_was_picked() -> None:
    book, rid = allocated_book(2)
    book.accepted(rid)
    pick(book, rid)

    def pack(*packages: tuple[str, int]) -> PackInput:
        return PackInput(
            request_id=rid,
            packages=[
                PackageInput(package_number=n, lines=[PackageLineInput(line_id="L0", quantity=q)])
                for n, q in packages
            ],
        )

    for data, match in [
        (pack(), "distinct"),
        (pack(("P1", 1), ("P1", 1)), "distinct"),
        (pack(("P1", 0)), "positive"),
        (pack(("P1", 1)), "exactly what was picked"),
    ]:
        with pytest.raises(InvalidTransition, match=match):
            book.check_pack(data)
    book.check_pack(pack(("P1", 1), ("P2", 1)))


def test_a_hold_stops_every_warehouse_step_naming_itself_and_its_release_resumes() -> None:
    book, rid = allocated_book(2)
    book.accepted(rid)
    book.settle_status()
    hold = book.hold(HoldInput(code="fraud", reason="card flagged"))
    assert book.status is OrderStatus.ON_HOLD
    data = PickInput(request_id=rid, lines=[PickLineInput(line_id="L0", quantity=2)])
    with pytest.raises(OnHold, match=r"fraud, hold H1"):
        book.check_pick(data)
    for step in (Step.ACCEPT, Step.PACK, Step.SHIP):
        with pytest.raises(OnHold):
            book.check_not_held(step)
    book.check_cancel("fraud confirmed")  # `fulfillment` does not stop a cancel
    book.check_release(hold.id)
    book.release(hold.id)
    assert book.view().status is OrderStatus.IN_FULFILLMENT  # where it was
    with pytest.raises(InvalidTransition, match="no active hold"):
        book.check_release(hold.id)
    book.check_pick(data)


def test_a_hold_that_blocks_all_also_stops_a_cancel() -> None:
    book, _ = allocated_book(2)
    book.hold(HoldInput(code="legal", reason="dispute", blocks=HoldBlocks.ALL))
    with pytest.raises(OnHold, match="legal"):
        book.check_cancel("customer asked")
    with pytest.raises(InvalidTransition, match="needs a code"):
        book.check_hold(HoldInput(code=" ", reason="x"))


def test_a_cancel_needs_a_reason_and_is_asked_once() -> None:
    book, _ = allocated_book(2)
    with pytest.raises(InvalidInput):
        book.check_cancel("  ")
    book.ask_cancel("changed my mind")
    assert book.cancel_requested and book.cancel_asked == "changed my mind"
    with pytest.raises(InvalidTransition, match="already"):
        book.check_cancel("again")
    blank = new_book()
    blank.ask_cancel(" ")  # accepted before the validator refused blanks: still closes
    assert blank.cancel_asked == "canceled on request (no reason given)"


def test_a_request_that_may_still_come_is_not_yet_and_an_unknown_one_is_refused() -> None:
    book = new_book(payment=PaymentStatus.PENDING)
    reserve(book, {})
    with pytest.raises(NotYet, match="still reserving or allocating"):
        book.check_accept("SO-1-WH1-1")
    for unknown in ("SO-2-WH1-1", "SO-1-WH1-x", "nonsense"):
        with pytest.raises(InvalidTransition) as refused:
            book.check_accept(unknown)
        assert not isinstance(refused.value, NotYet)


def test_the_next_step_of_a_request_whose_step_is_under_way_is_not_yet() -> None:
    book, rid = allocated_book(2)
    book.accepted(rid)
    with book.step_underway(rid, Step.PICK), pytest.raises(NotYet, match="pick step"):
        book.check_pack(pack_input(book, rid))
    pick(book, rid)
    book.packed(pack_input(book, rid))
    with book.step_underway(rid, Step.SHIP), pytest.raises(InvalidTransition, match="shipped"):
        book.check_cancel("now")
    assert book.underway == {}


def test_compensation_gives_back_picked_and_allocated_stock_and_cancels_the_rest() -> None:
    book, rid = allocated_book(2, 3)
    book.accepted(rid)
    data = PickInput(request_id=rid, lines=[PickLineInput(line_id="L0", quantity=2)])
    plan = book.plan_pick(data)
    picked = {p.allocation_id: 900 + n for n, p in enumerate(plan.stock.picks)}
    book.picked(plan, PickStockResult(picked=picked))
    assert [(p.allocation_id, p.to_location) for p in book.to_put_back()] == [(900, "A1")]
    assert len(book.to_deallocate()) == 1  # L1 still allocated
    book.begin_closing()
    with pytest.raises(InvalidTransition):
        book.check_still_open(Step.PICK)
    book.compensated(OrderStatus.CANCELED, "customer asked")
    assert buckets(book, "L0") == {"canceled": 2} and buckets(book, "L1") == {"canceled": 3}
    assert book.requests[rid].status is RequestStatus.CANCELED
    assert book.to_put_back() == [] and book.to_deallocate() == []
    assert book.view().cancel_reason == "customer asked"


def test_an_expired_order_says_why() -> None:
    book = new_book(payment=PaymentStatus.PENDING)
    reserve(book, {})
    book.compensated(OrderStatus.EXPIRED, PAYMENT_EXPIRED)
    assert (book.status, book.cancel_reason) == (OrderStatus.EXPIRED, PAYMENT_EXPIRED)


def test_stock_for_one_of_its_items_marks_the_order_restocked() -> None:
    book = new_book((1, 1))
    book.stock_arrived("OTHER")
    assert not book.restocked
    book.stock_arrived("SKU1")
    assert book.restocked
    book.watch_stock()
    assert not book.restocked


def test_the_carried_state_resumes_an_identical_order() -> None:
    book, rid = allocated_book(2, 3)
    book.accepted(rid)
    pick(book, rid, {"L0": 2, "L1": 1})
    book.hold(HoldInput(code="manual", reason="check"))
    book.stock_arrived("SKU0")
    state = book.snapshot()
    order = replace(book.order, carried=state)
    again = OrderBook.resume(order, book.workflow_id, state)
    assert again.view() == book.view()
    assert again.snapshot() == state
    assert again.order.carried is None  # no state nested in the next state
    assert again.reservations == book.reservations and again.origins == book.origins


def test_a_stock_step_admitted_before_a_hold_does_not_act_after_it() -> None:
    # A pick or ship passes its validator, then waits for the order's lock (another
    # request's step holds it); a hold placed meanwhile stops it once it has the lock.
    book, rid = allocated_book(2)
    book.accepted(rid)
    book.check_pick(PickInput(request_id=rid, lines=[PickLineInput(line_id="L0", quantity=2)]))
    book.check_still_open(Step.PICK)
    hold = book.hold(HoldInput(code="fraud", reason="card flagged"))
    for step in (Step.PICK, Step.SHIP):
        with pytest.raises(OnHold, match="fraud, hold H1"):
            book.check_still_open(step)
    book.release(hold.id)
    book.check_still_open(Step.PICK)


def test_a_hold_is_refused_while_a_shipment_is_leaving() -> None:
    book, rid = allocated_book(2)
    book.accepted(rid)
    pick(book, rid)
    book.packed(pack_input(book, rid))
    with book.step_underway(rid, Step.SHIP), pytest.raises(InvalidTransition, match="shipped"):
        book.check_hold(HoldInput(code="fraud", reason="late"))
    book.check_hold(HoldInput(code="fraud", reason="before the ship"))
