import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.orders import Bucket, LineBook, OrderStatus
from domain.stock import InvalidTransition


def test_a_new_line_is_all_pending() -> None:
    book = LineBook.new(7)
    assert (book.pending, book.open, book.balanced()) == (7, 7, True)


def test_a_line_needs_a_positive_quantity() -> None:
    with pytest.raises(InvalidInput):
        LineBook.new(0)


@given(
    st.integers(1, 1000),
    st.lists(
        st.tuples(
            st.sampled_from(list(Bucket)), st.sampled_from(list(Bucket)), st.integers(0, 1200)
        ),
        max_size=40,
    ),
)
def test_any_sequence_of_moves_keeps_the_book_balanced(
    ordered: int, moves: list[tuple[Bucket, Bucket, int]]
) -> None:
    book = LineBook.new(ordered)
    for source, target, quantity in moves:
        before = book.get(source)
        try:
            book.move(source, target, quantity)
        except InvalidTransition:
            assert quantity > before  # refused only when there is not enough
        assert book.balanced()


def test_moving_more_than_a_bucket_holds_is_refused_and_changes_nothing() -> None:
    book = LineBook.new(5)
    book.move(Bucket.PENDING, Bucket.RESERVED, 3)
    with pytest.raises(InvalidTransition, match="only 3 there"):
        book.move(Bucket.RESERVED, Bucket.ALLOCATED, 4)
    assert (book.pending, book.reserved, book.allocated) == (2, 3, 0)


def test_final_statuses() -> None:
    assert {s for s in OrderStatus if s.is_final} == {
        OrderStatus.SHIPPED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
    }
