"""A lot hold pulls allocations from an order: the aggregate hands the quantity back
to be reserved again, once, even when told twice or before it knew the allocation."""

from contracts.orders import AllocatedStock, AllocateResult
from domain.order_book import OrderBook
from domain.orders import AllocationStatus, Bucket, RequestStatus
from domain.stock import PulledStock, pulled_orders
from tests.unit.order_book_steps import allocate, first_request, new_book, reserve


def test_pulled_allocations_go_back_to_pending_once_and_an_emptied_request_is_canceled() -> None:
    book = new_book((3,))
    assert reserve(book, {}) is None
    allocate(book)
    rid = first_request(book)
    [allocation] = book.requests[rid].allocations
    book.watch_stock()
    book.stock_pulled([allocation.allocation_id])
    book.stock_pulled([allocation.allocation_id])  # a repeated signal changes nothing
    assert book.books["L0"].get(Bucket.PENDING) == 3
    assert book.books["L0"].get(Bucket.ALLOCATED) == 0
    assert allocation.status is AllocationStatus.RELEASED and allocation.quantity == 0
    assert book.requests[rid].status is RequestStatus.CANCELED
    assert book.restocked  # a wait for stock wakes too


def test_a_pull_told_before_the_allocation_result_applies_when_it_comes() -> None:
    book = new_book((2,))
    assert reserve(book, {}) is None
    book.stock_pulled([777])  # the hold came before the allocation's result
    [rid] = book.allocatable()
    stock = AllocatedStock(
        reservation_id=rid,
        allocation_id=777,
        warehouse="WH1",
        location="A1",
        lot="A",
        serial=None,
        quantity=2,
    )
    book.allocated(AllocateResult(allocations=[stock], staging={"WH1": "STAGE"}))
    assert book.books["L0"].get(Bucket.PENDING) == 2
    assert book.books["L0"].get(Bucket.ALLOCATED) == 0


def test_a_pull_told_before_the_allocation_result_survives_a_continue_as_new() -> None:
    book = new_book((2,))
    assert reserve(book, {}) is None
    book.stock_pulled([777])
    resumed = OrderBook.resume(book.order, book.workflow_id, book.snapshot())
    [rid] = resumed.allocatable()
    stock = AllocatedStock(
        reservation_id=rid,
        allocation_id=777,
        warehouse="WH1",
        location="A1",
        lot="A",
        serial=None,
        quantity=2,
    )
    resumed.allocated(AllocateResult(allocations=[stock], staging={"WH1": "STAGE"}))
    assert resumed.books["L0"].get(Bucket.PENDING) == 2  # the pull was carried over


def test_pulled_stock_is_grouped_by_the_order_its_reference_names() -> None:
    def one(aid: int, ref: str | None, kind: str = "order") -> PulledStock:
        return PulledStock(
            allocation_id=aid, warehouse="WH1", quantity=1, reference_type=kind, reference_id=ref
        )

    pulled = [one(1, "SO-1/L0"), one(2, "SO-1/L1"), one(3, "SO-2/L0"), one(4, "T-1", "transfer")]
    assert pulled_orders(pulled) == {"SO-1": [1, 2], "SO-2": [3]}
