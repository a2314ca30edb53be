"""An order ends canceled, expired or rejected only with a reason (the book's rule)."""

import pytest

from contracts.orders import OrderInput, OrderLineInput, PaymentInput
from domain.order_book import OrderBook
from domain.orders import OrderStatus, PaymentStatus
from domain.stock import InvalidTransition


def _book() -> OrderBook:
    order = OrderInput(
        tenant_id=1,
        order_number="SO-1",
        customer_id="C-1",
        currency="EUR",
        lines=[OrderLineInput(line_id="L0", sku="WIDGET", quantity=2, unit_price="9.90")],
        payment=PaymentInput(status=PaymentStatus.AUTHORIZED),
    )
    return OrderBook.open(order, "order:1:SO-1")


@pytest.mark.parametrize(
    "status", [OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED]
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_an_order_cannot_be_closed_without_a_reason(status: OrderStatus, reason: str) -> None:
    book = _book()
    with pytest.raises(InvalidTransition, match="needs a reason"):
        book.close(status, reason=reason)
    assert (book.status, book.cancel_reason) == (OrderStatus.RECEIVED, None)


def test_a_rejected_order_shows_its_reason() -> None:
    book = _book()
    book.close(OrderStatus.REJECTED, reason="step reserve_lines failed: out of range")
    view = book.view()
    assert (view.status, view.cancel_reason) == (
        OrderStatus.REJECTED,
        "step reserve_lines failed: out of range",
    )


def test_close_is_only_for_ending_without_shipping() -> None:
    with pytest.raises(InvalidTransition):
        _book().close(OrderStatus.SHIPPED, reason="done")
