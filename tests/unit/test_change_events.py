"""Which events a change makes: a return's and a transfer's projection writes, and the
thresholds a stock level's `available` crosses."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from domain.change_events import (
    TransferState,
    return_events,
    stock_crossings,
    transfer_events,
)
from domain.events import EventType
from domain.returns import ReturnStatus
from domain.transfers import TransferStatus

LOW = EventType.INVENTORY_LOW_STOCK
OUT = EventType.INVENTORY_OUT_OF_STOCK
BACK = EventType.INVENTORY_BACK_IN_STOCK

levels = st.integers(min_value=0, max_value=50)
thresholds = st.integers(min_value=0, max_value=20)


def test_a_returns_first_projection_says_it_was_requested() -> None:
    assert return_events(None, ReturnStatus.REQUESTED) == [EventType.RETURN_REQUESTED]


def test_a_return_that_was_never_projected_and_is_approved_reports_both() -> None:
    assert return_events(None, ReturnStatus.APPROVED) == [
        EventType.RETURN_REQUESTED,
        EventType.RETURN_APPROVED,
    ]


def test_a_return_rewritten_in_the_same_status_makes_no_event() -> None:
    for status in ReturnStatus:
        assert return_events(status, status) == []


def test_a_return_closing_makes_its_closed_event_and_expiring_makes_none() -> None:
    assert return_events(ReturnStatus.RECEIVED, ReturnStatus.CLOSED) == [EventType.RETURN_CLOSED]
    assert return_events(ReturnStatus.APPROVED, ReturnStatus.EXPIRED) == []


def _transfer(status: TransferStatus, receipts: int = 0) -> TransferState:
    return TransferState(status=status, receipts=receipts)


def test_a_transfer_ships_then_is_received_twice_and_completes_once() -> None:
    life: list[TransferState | None] = [
        None,
        _transfer(TransferStatus.RESERVED),
        _transfer(TransferStatus.IN_TRANSIT),
        _transfer(TransferStatus.PARTIALLY_RECEIVED, 1),
        _transfer(TransferStatus.COMPLETED, 2),
    ]
    events = [
        e for a, b in itertools.pairwise(life) if b is not None for e in transfer_events(a, b)
    ]
    assert events == [
        EventType.TRANSFER_SHIPPED,
        EventType.TRANSFER_RECEIVED,
        EventType.TRANSFER_RECEIVED,
        EventType.TRANSFER_COMPLETED,
    ]


def test_a_transfer_canceled_before_it_shipped_only_says_canceled() -> None:
    assert transfer_events(
        _transfer(TransferStatus.RESERVED), _transfer(TransferStatus.CANCELED)
    ) == [EventType.TRANSFER_CANCELED]


def test_a_transfer_rewritten_unchanged_makes_no_event() -> None:
    for status in TransferStatus:
        assert transfer_events(_transfer(status, 1), _transfer(status, 1)) == []


@given(levels, thresholds)
def test_an_unchanged_level_crosses_nothing(level: int, threshold: int) -> None:
    assert stock_crossings(level, level, threshold=threshold) == []


@given(levels, levels, thresholds)
def test_each_crossing_is_the_line_it_names(before: int, after: int, threshold: int) -> None:
    crossed = stock_crossings(before, after, threshold=threshold)
    assert (OUT in crossed) == (before > 0 and after == 0)
    assert (BACK in crossed) == (before == 0 and after > 0)
    assert (LOW in crossed) == (threshold > 0 and before > threshold >= after)


@given(levels, levels, thresholds)
def test_a_fall_reports_low_before_out(before: int, after: int, threshold: int) -> None:
    crossed = stock_crossings(before, after, threshold=threshold)
    assert crossed == sorted(crossed, key=[LOW, OUT, BACK].index)
    assert not (BACK in crossed and (LOW in crossed or OUT in crossed))


@given(st.lists(levels, min_size=1, max_size=30), thresholds)
def test_out_and_back_alternate_along_any_path(path: list[int], threshold: int) -> None:
    """Whatever the level does, out_of_stock and back_in_stock alternate, each says
    where the level is, and low_stock comes once per fall through the threshold."""
    events = [
        e for a, b in itertools.pairwise(path) for e in stock_crossings(a, b, threshold=threshold)
    ]
    stock_events = [e for e in events if e is not LOW]
    for first, second in itertools.pairwise(stock_events):
        assert first != second
    if stock_events:
        assert (stock_events[-1] is OUT) == (path[-1] == 0)
    falls = sum(1 for a, b in itertools.pairwise(path) if a > threshold >= b)
    assert events.count(LOW) == (falls if threshold > 0 else 0)
