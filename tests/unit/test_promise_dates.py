"""Promise dates: the matching of waiting lines (in serving order) with stock and
supply by date (domain/promise_dates.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.promise_dates import (
    NOT_COVERED,
    Promise,
    Supply,
    SupplyKind,
    SupplySource,
    counts_at,
    promise_dates,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GRACE = timedelta(hours=24)


def po(number: str, quantity: int, hours: float, warehouse: str = "WH1") -> Supply:
    return Supply(
        quantity=quantity,
        expected_at=NOW + timedelta(hours=hours),
        source=SupplySource(kind=SupplyKind.PURCHASE_ORDER, reference=number, warehouse=warehouse),
    )


def stock(quantity: int, warehouse: str = "WH1") -> Supply:
    return Supply(
        quantity=quantity,
        expected_at=NOW,
        source=SupplySource(kind=SupplyKind.STOCK, reference=None, warehouse=warehouse),
    )


supplies = st.lists(
    st.builds(
        po,
        st.sampled_from(["PO-1", "PO-2", "PO-3"]),
        st.integers(min_value=0, max_value=50),
        st.integers(min_value=-100, max_value=500),
    )
    | st.builds(stock, st.integers(min_value=0, max_value=30)),
    max_size=8,
)
lines = st.lists(st.integers(min_value=1, max_value=40), max_size=10)


def _never(promise: Promise) -> datetime:
    return promise.expected_at or datetime.max.replace(tzinfo=UTC)


def test_free_stock_then_the_earliest_po_then_the_next_covers_the_lines_in_turn() -> None:
    promises = promise_dates(
        [3, 5, 4, 10],
        [po("PO-2", 6, 72), po("PO-1", 4, 24), stock(2)],
        now=NOW,
        late_grace=GRACE,
    )
    assert [p.expected_at for p in promises] == [
        NOW + timedelta(hours=24),  # 2 free + 4 from PO-1 cover 3
        NOW + timedelta(hours=72),  # 8 needs PO-2
        NOW + timedelta(hours=72),  # 12 = 2 + 4 + 6
        None,  # 22: nothing brings that much
    ]
    assert [p.covered_by and p.covered_by.reference for p in promises] == [
        "PO-1",
        "PO-2",
        "PO-2",
        None,
    ]


def test_a_late_po_counts_at_now_plus_the_grace_and_moves_behind_a_po_due_sooner() -> None:
    late, soon = po("PO-LATE", 5, -48), po("PO-SOON", 5, 2)
    first, second = promise_dates([5, 5], [late, soon], now=NOW, late_grace=GRACE)
    assert first == Promise(expected_at=NOW + timedelta(hours=2), covered_by=soon.source)
    assert second == Promise(expected_at=NOW + GRACE, covered_by=late.source)
    # A day later the late PO is still late: its promise moved a day on.
    later = NOW + timedelta(days=1)
    assert promise_dates([5], [late], now=later, late_grace=GRACE)[0].expected_at == later + GRACE


def test_a_line_nothing_covers_has_no_date_and_neither_has_any_after_it() -> None:
    assert promise_dates([5, 1], [po("PO-1", 4, 10)], now=NOW, late_grace=GRACE) == [
        NOT_COVERED,
        NOT_COVERED,
    ]


@given(lines, supplies)
def test_promises_never_go_back_in_serving_order(
    backordered: list[int], supply: list[Supply]
) -> None:
    promises = promise_dates(backordered, supply, now=NOW, late_grace=GRACE)
    assert len(promises) == len(backordered)
    dates = [_never(p) for p in promises]
    assert dates == sorted(dates)  # no line is promised before a line ahead of it


@given(lines, supplies)
def test_what_is_promised_never_exceeds_free_stock_plus_supply(
    backordered: list[int], supply: list[Supply]
) -> None:
    promises = promise_dates(backordered, supply, now=NOW, late_grace=GRACE)
    promised = sum(q for q, p in zip(backordered, promises, strict=True) if p.expected_at)
    assert promised <= sum(s.quantity for s in supply)


@given(lines, supplies)
def test_each_promise_is_the_earliest_date_supply_covers_the_lines_up_to_it(
    backordered: list[int], supply: list[Supply]
) -> None:
    promises = promise_dates(backordered, supply, now=NOW, late_grace=GRACE)

    def supplied_by(at: datetime, strictly_before: bool = False) -> int:
        return sum(
            s.quantity
            for s in supply
            if (counted := counts_at(s.expected_at, NOW, GRACE)) < at
            or (not strictly_before and counted == at)
        )

    demand = 0
    for quantity, promise in zip(backordered, promises, strict=True):
        demand += quantity
        if promise.expected_at is None:
            assert sum(s.quantity for s in supply) < demand
        else:
            assert supplied_by(promise.expected_at) >= demand
            assert supplied_by(promise.expected_at, strictly_before=True) < demand


@given(lines, supplies)
def test_no_promise_is_in_the_past_and_late_supply_counts_at_now_plus_grace(
    backordered: list[int], supply: list[Supply]
) -> None:
    promises = promise_dates(backordered, supply, now=NOW, late_grace=GRACE)
    due = {s.expected_at for s in supply if s.expected_at >= NOW}
    for promise in promises:
        if promise.expected_at is not None:
            assert promise.expected_at >= NOW
            assert promise.expected_at in due | {NOW + GRACE}


@given(lines, supplies)
def test_the_order_supply_is_listed_in_does_not_change_the_promises(
    backordered: list[int], supply: list[Supply]
) -> None:
    forward = promise_dates(backordered, supply, now=NOW, late_grace=GRACE)
    backward = promise_dates(backordered, supply[::-1], now=NOW, late_grace=GRACE)
    assert [p.expected_at for p in forward] == [p.expected_at for p in backward]
