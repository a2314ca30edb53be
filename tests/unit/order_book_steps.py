"""Building an OrderBook and feeding it what the activities would answer, for the
aggregate's unit tests (no Temporal, no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from contracts.orders import (
    AllocatedStock,
    AllocateResult,
    LineReservation,
    OrderInput,
    OrderLineInput,
    PackInput,
    PaymentInput,
    PickInput,
    PickLineInput,
    PickStockResult,
    ReservedPart,
    ReserveLinesResult,
    ShipInput,
)
from contracts.shipping import PackageInput, PackageLineInput
from domain.order_book import OrderBook
from domain.orders import FulfillmentPolicy, PaymentStatus

NOW = datetime(2030, 1, 1, tzinfo=UTC)
_ids = itertools.count(1)


def new_book(
    quantities: tuple[int, ...] = (2,),
    *,
    policy: FulfillmentPolicy = FulfillmentPolicy.SHIP_PARTIAL,
    payment: PaymentStatus = PaymentStatus.AUTHORIZED,
) -> OrderBook:
    order = OrderInput(
        tenant_id=1,
        order_number="SO-1",
        customer_id="C-1",
        currency="EUR",
        lines=[
            OrderLineInput(line_id=f"L{n}", sku=f"SKU{n}", quantity=q, unit_price="9.90")
            for n, q in enumerate(quantities)
        ],
        fulfillment_policy=policy,
        payment=PaymentInput(status=payment, ttl_seconds=600),
    )
    return OrderBook.open(order, "order:1:SO-1")


def reserve(book: OrderBook, had: dict[str, int], may_wait: bool = True) -> str | None:
    """A reservation round in WH1: `had` per line (the rest short; waits if allowed)."""
    lines = []
    for need in book.needs():
        got = min(had.get(need.line_id, need.quantity), need.quantity)
        short = need.quantity - got
        parts = [ReservedPart(reservation_id=next(_ids), warehouse="WH1", quantity=got)]
        lines.append(
            LineReservation(
                line_id=need.line_id,
                parts=parts if got else [],
                short=short,
                may_wait=short if may_wait else 0,
            )
        )
    return book.reserved(ReserveLinesResult(lines=lines), NOW)


def allocate(book: OrderBook, shortfall: int = 0) -> None:
    """Allocate every allocatable reservation at A1, less `shortfall` of the first."""
    allocations, short = [], {}
    for n, rid in enumerate(book.allocatable()):
        quantity = book.reservations[rid].open - (shortfall if n == 0 else 0)
        if n == 0 and shortfall:
            short[rid] = shortfall
        if quantity > 0:
            allocations.append(
                AllocatedStock(
                    reservation_id=rid,
                    allocation_id=next(_ids),
                    warehouse="WH1",
                    location="A1",
                    lot=None,
                    serial=None,
                    quantity=quantity,
                )
            )
    book.allocated(AllocateResult(allocations=allocations, staging={"WH1": "STAGE"}))
    book.gave_back(short)


def pick(book: OrderBook, request_id: str, found: dict[str, int] | None = None) -> None:
    """Confirm a pick (everything, or `found` per line) and book what the stock does."""
    request = book.request(request_id)
    data = PickInput(
        request_id=request_id,
        lines=[
            PickLineInput(line_id=x.line_id, quantity=(found or {}).get(x.line_id, x.quantity))
            for x in request.lines
        ],
    )
    book.check_pick(data)
    plan = book.plan_pick(data)
    book.picked(
        plan, PickStockResult(picked={p.allocation_id: next(_ids) for p in plan.stock.picks})
    )
    for short in plan.shorts:
        book.short_picked(plan, short)
    book.pick_done(plan)
    book.settle_status()


def pack_input(book: OrderBook, request_id: str) -> PackInput:
    lines = [
        PackageLineInput(line_id=x.line_id, quantity=x.picked)
        for x in book.request(request_id).lines
        if x.picked
    ]
    return PackInput(
        request_id=request_id, packages=[PackageInput(package_number="P1", lines=lines)]
    )


def ship(book: OrderBook, request_id: str) -> None:
    data = ShipInput(request_id=request_id, carrier="DHL")
    book.check_ship(data)
    book.shipped(data, NOW.isoformat())
    book.settle_status()


def first_request(book: OrderBook) -> str:
    return next(iter(book.requests))
