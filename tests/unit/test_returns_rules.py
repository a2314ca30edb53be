"""Returns: what may be returned, what a receipt may say, the refund."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, Wording
from domain.returns import (
    Disposition,
    ReceivedLine,
    Returnable,
    check_receipt,
    check_request,
    held_lot_name,
    refund,
)


@given(shipped=st.integers(0, 1000), claimed=st.integers(0, 1000), asked=st.integers(-5, 1200))
def test_a_request_fits_what_is_shipped_and_not_yet_claimed(
    shipped: int, claimed: int, asked: int
) -> None:
    lines = {"1": Returnable("1", "SKU", shipped, claimed)}
    fits = 0 < asked <= shipped - claimed
    if fits:
        check_request(lines, [("1", asked)])
    else:
        with pytest.raises(InvalidInput) as refused:
            check_request(lines, [("1", asked)])
        assert refused.value.field == "lines.0.quantity"


@given(st.lists(st.integers(1, 5), min_size=1, max_size=8))
def test_claims_never_add_up_beyond_shipped(asks: list[int]) -> None:
    """Requests granted one after another (as under the order's lock) stay within it."""
    shipped, claimed = 10, 0
    for ask in asks:
        try:
            check_request({"1": Returnable("1", "SKU", shipped, claimed)}, [("1", ask)])
        except InvalidInput:
            continue
        claimed += ask
    assert claimed <= shipped


def test_unknown_and_repeated_lines_are_refused() -> None:
    lines = {"1": Returnable("1", "SKU", 3, 0)}
    with pytest.raises(InvalidInput, match="no line"):
        check_request(lines, [("2", 1)])
    with pytest.raises(InvalidInput, match="twice"):
        check_request(lines, [("1", 1), ("1", 1)])
    with pytest.raises(InvalidInput):
        check_request(lines, [])


@given(requested=st.integers(1, 50), received=st.integers(0, 60), accepted=st.integers(0, 60))
def test_a_receipt_accepts_at_most_what_arrived_and_was_requested(
    requested: int, received: int, accepted: int
) -> None:
    line = ReceivedLine("1", received, accepted, Disposition.RESTOCK)
    if accepted <= received <= requested:
        check_receipt({"1": requested}, [line], {"1": "SKU"})
    else:
        with pytest.raises(InvalidInput):
            check_receipt({"1": requested}, [line], {"1": "SKU"})


@given(
    st.lists(
        st.tuples(
            st.integers(0, 1000), st.decimals(0, 1000, places=2), st.sampled_from([1, 4, 1000])
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_refund_is_accepted_units_times_price(lines: list[tuple[int, Decimal, int]]) -> None:
    amount = refund([(a, p) for a, p, _ in lines], [size for _, _, size in lines])
    exact = sum((Decimal(a) / size * p for a, p, size in lines), Decimal(0))
    assert abs(amount - exact) <= Decimal("0.005")
    assert amount >= 0
    if all(a == 0 for a, _, _ in lines):
        assert amount == 0


def test_held_lots_are_named_after_the_return() -> None:
    assert held_lot_name("RMA-7", None, Disposition.RESTOCK) == "RMA-7-Q"
    assert held_lot_name("7", None, Disposition.REPAIR) == "RMA-7-R"
    assert held_lot_name("rma-7", "L1", Disposition.RESTOCK) == "L1/rma-7-Q"


def test_a_refusal_keeps_its_quantities_apart_for_the_edge_to_say() -> None:
    lines = {"1": Returnable("1", "FABRIC", 6, 0)}
    with pytest.raises(InvalidInput) as refused:
        check_request(lines, [("1", 8)])
    error = refused.value
    assert error.detail.startswith("line '1': 8 asked, 6 returnable (shipped 6,")
    yards = error.wording.render(lambda sku, base: f"{base / 4:g} yd")
    assert yards.startswith("line '1': 2 yd asked, 1.5 yd returnable (shipped 1.5 yd,")
    # as it crosses Temporal (an ApplicationError's details) and comes back
    [details] = error.details
    assert Wording.from_details(details) == error.wording
    assert Wording.from_details({"not": "a wording"}) is None
