from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import (
    BackorderPolicy,
    Candidate,
    LotStatus,
    Strategy,
    WarehouseStock,
    available_to_promise,
    can_wake_backorders,
    choose_stock,
    decide_backorder,
    expired_unmarked,
    lot_status_on,
    plan_reservation,
    plan_reservations,
    usable,
)

TODAY = date(2026, 11, 21)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def candidates(draw: st.DrawFn) -> Candidate:
    return Candidate(
        balance_key=(draw(st.integers(1, 10**6)),),
        free=draw(st.integers(0, 50)),
        received_at=EPOCH + timedelta(days=draw(st.integers(0, 300))),
        lot_status=draw(st.sampled_from(list(LotStatus))),
        expires_on=draw(
            st.none() | st.dates(TODAY - timedelta(days=30), TODAY + timedelta(days=90))
        ),
        pickable=draw(st.booleans()),
    )


candidate_lists = st.lists(candidates(), max_size=12, unique_by=lambda c: c.balance_key)


@given(candidate_lists, st.integers(1, 400), st.sampled_from(list(Strategy)))
def test_never_picks_expired_held_or_unpickable_stock(
    pool: list[Candidate], quantity: int, strategy: Strategy
) -> None:
    picks, _ = choose_stock(pool, quantity, strategy, TODAY)
    for pick in picks:
        c = pick.candidate
        assert c.lot_status is LotStatus.AVAILABLE
        assert c.expires_on is None or c.expires_on > TODAY
        assert c.pickable


@given(candidate_lists, st.integers(1, 400), st.sampled_from(list(Strategy)))
def test_picks_cover_what_usable_stock_allows_and_never_more(
    pool: list[Candidate], quantity: int, strategy: Strategy
) -> None:
    picks, short = choose_stock(pool, quantity, strategy, TODAY)
    usable_total = sum(c.free for c in pool if usable(c, TODAY))
    picked = sum(p.quantity for p in picks)
    assert picked + short == quantity
    assert picked == min(quantity, usable_total)
    assert all(0 < p.quantity <= p.candidate.free for p in picks)


@given(candidate_lists, st.integers(1, 400))
def test_fifo_takes_oldest_first_and_lifo_newest_first(pool: list[Candidate], qty: int) -> None:
    fifo, _ = choose_stock(pool, qty, Strategy.FIFO, TODAY)
    lifo, _ = choose_stock(pool, qty, Strategy.LIFO, TODAY)
    fifo_times = [p.candidate.received_at for p in fifo]
    lifo_times = [p.candidate.received_at for p in lifo]
    assert fifo_times == sorted(fifo_times)
    assert lifo_times == sorted(lifo_times, reverse=True)
    # Only the last pick may be partial, and nothing older (newer) is left untouched.
    used = {p.candidate.balance_key for p in fifo}
    if fifo:
        newest_used = max(fifo_times)
        for c in pool:
            if usable(c, TODAY) and c.balance_key not in used:
                assert c.received_at >= newest_used


@given(candidate_lists, st.integers(1, 400))
def test_fefo_takes_earliest_expiry_first_then_oldest(pool: list[Candidate], qty: int) -> None:
    picks, _ = choose_stock(pool, qty, Strategy.FEFO, TODAY)
    keys = [(p.candidate.expires_on or date.max, p.candidate.received_at) for p in picks]
    assert keys == sorted(keys)
    used = {p.candidate.balance_key for p in picks}
    if picks:
        last = keys[-1]
        for c in pool:
            if usable(c, TODAY) and c.balance_key not in used:
                assert (c.expires_on or date.max, c.received_at) >= last


@given(candidate_lists, st.integers(1, 400), st.dictionaries(st.integers(1, 3), st.integers(0, 40)))
def test_a_lot_never_gives_more_than_its_free_quantity(
    pool: list[Candidate], quantity: int, lot_free: dict[int, int]
) -> None:
    pool = [
        Candidate(
            c.balance_key,
            c.free,
            c.received_at,
            c.lot_status,
            c.expires_on,
            c.pickable,
            lot_key=(c.balance_key[0] % 3) + 1,
        )
        for c in pool
    ]
    picks, short = choose_stock(pool, quantity, Strategy.FIFO, TODAY, lot_free)
    for lot, cap in lot_free.items():
        assert sum(p.quantity for p in picks if p.candidate.lot_key == lot) <= cap
    assert sum(p.quantity for p in picks) + short == quantity
    assert all(p.quantity > 0 for p in picks)


def test_fefo_example_prefers_the_lot_expiring_first() -> None:
    early = Candidate((1,), 5, EPOCH + timedelta(days=10), expires_on=TODAY + timedelta(days=5))
    late = Candidate((2,), 5, EPOCH, expires_on=TODAY + timedelta(days=50))
    expired = Candidate((3,), 5, EPOCH, expires_on=TODAY)
    picks, short = choose_stock([late, expired, early], 7, Strategy.FEFO, TODAY)
    assert [(p.candidate.balance_key, p.quantity) for p in picks] == [((1,), 5), ((2,), 2)]
    assert short == 0


def _wh(code: str, priority: int, available: int, wid: int = 0) -> WarehouseStock:
    return WarehouseStock(wid or hash(code) % 1000, code, priority, available)


def test_preferred_warehouse_comes_first_then_priority() -> None:
    plan, _short = plan_reservation(
        [_wh("A", 1, 10), _wh("B", 2, 10), _wh("C", 0, 10)], 5, preferred="B"
    )
    assert [(w.code, q) for w, q in plan] == [("B", 5)]
    plan, _ = plan_reservation([_wh("A", 1, 10), _wh("C", 0, 10)], 5)
    assert [w.code for w, _ in plan] == ["C"]


def test_without_split_one_warehouse_serves_and_the_rest_is_short() -> None:
    plan, short = plan_reservation([_wh("A", 0, 3), _wh("B", 1, 6)], 10)
    assert [(w.code, q) for w, q in plan] == [("B", 6)]
    assert short == 4
    plan, short = plan_reservation([_wh("A", 0, 3), _wh("B", 1, 10)], 10)
    assert [(w.code, q) for w, q in plan] == [("B", 10)] and short == 0


def test_with_split_warehouses_fill_in_order() -> None:
    plan, short = plan_reservation([_wh("A", 0, 3), _wh("B", 1, 6)], 10, allow_split=True)
    assert [(w.code, q) for w, q in plan] == [("A", 3), ("B", 6)]
    assert short == 1


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=5),
    st.integers(1, 100),
    st.booleans(),
)
def test_a_reservation_plan_never_exceeds_available(
    stocks: list[int], quantity: int, split: bool
) -> None:
    warehouses = [_wh(f"W{i}", i, a, wid=i + 1) for i, a in enumerate(stocks)]
    plan, short = plan_reservation(warehouses, quantity, allow_split=split)
    assert sum(q for _, q in plan) + short == quantity
    assert all(0 < q <= w.available for w, q in plan)
    assert len({w.code for w, _ in plan}) == len(plan)
    if not split:
        assert len(plan) <= 1
    if split or len(stocks) == 1:
        assert short == max(0, quantity - sum(stocks))


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from("AB"), st.integers(1, 40)), min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from([None, "W0", "W2"]),
)
def test_a_step_plan_is_each_line_planned_on_what_the_lines_before_left(
    stocks: list[int], needs: list[tuple[str, int]], split: bool, preferred: str | None
) -> None:
    """One read serves the whole step: its plans are those of planning line after
    line on the stock each left, so a SKU's lines together never take more than a
    warehouse has, and one SKU's lines leave another's stock alone."""
    read = {
        sku: [_wh(f"W{i}", i, a + offset, wid=i + 1) for i, a in enumerate(stocks)]
        for sku, offset in (("A", 0), ("B", 5))
    }
    plans = plan_reservations(
        [(sku, quantity, read[sku]) for sku, quantity in needs],
        preferred=preferred,
        allow_split=split,
    )
    stock = {sku: {w.code: w.available for w in ws} for sku, ws in read.items()}
    for (sku, quantity), plan in zip(needs, plans, strict=True):
        now = [_wh(w.code, w.priority, stock[sku][w.code], wid=w.warehouse_id) for w in read[sku]]
        expected, _ = plan_reservation(now, quantity, preferred=preferred, allow_split=split)
        assert [(w.code, q) for w, q in plan] == [(w.code, q) for w, q in expected]
        for w, q in plan:
            stock[sku][w.code] -= q
    assert all(left >= 0 for by_code in stock.values() for left in by_code.values())


@pytest.mark.parametrize(
    ("policy", "limit", "waiting", "expected"),
    [
        (BackorderPolicy.DENY, None, 0, (0, 7)),
        (BackorderPolicy.ALLOW, None, 100, (7, 0)),
        (BackorderPolicy.ALLOW_UNTIL, 10, 5, (5, 2)),
        (BackorderPolicy.ALLOW_UNTIL, 10, 12, (0, 7)),
        (BackorderPolicy.ALLOW_UNTIL, 100, 0, (7, 0)),
    ],
)
def test_backorder_policy_splits_the_shortfall(
    policy: BackorderPolicy, limit: int | None, waiting: int, expected: tuple[int, int]
) -> None:
    decision = decide_backorder(policy, 7, limit=limit, already_backordered=waiting)
    assert (decision.backordered, decision.rejected) == expected


def test_a_lot_reads_expired_from_its_expiry_date_on_whatever_is_stored() -> None:
    status = LotStatus.AVAILABLE
    assert lot_status_on(status, TODAY + timedelta(days=1), TODAY) is LotStatus.AVAILABLE
    assert lot_status_on(status, TODAY, TODAY) is LotStatus.EXPIRED
    assert lot_status_on(status, None, TODAY) is LotStatus.AVAILABLE
    # a lot on hold stays on hold (its stock is held either way)
    assert lot_status_on(LotStatus.HOLD, TODAY, TODAY) is LotStatus.HOLD


@given(candidate_lists, st.integers(0, 400))
def test_stock_wakes_a_backorder_only_when_allocation_could_take_more_than_is_reserved(
    pool: list[Candidate], reserved: int
) -> None:
    picks, _ = choose_stock(pool, 10**6, Strategy.FIFO, TODAY)
    allocatable = sum(p.quantity for p in picks)
    assert can_wake_backorders(pool, reserved, TODAY) is (allocatable > reserved)


@given(candidate_lists)
def test_expired_stock_not_yet_marked_is_what_allocation_skips_for_its_date_alone(
    pool: list[Candidate],
) -> None:
    """It is the free stock of lots marked available that `usable` refuses only
    because of the date: neither more nor less."""
    undated = [
        Candidate(c.balance_key, c.free, c.received_at, c.lot_status, None, True)
        for c in pool
        if c.lot_status is LotStatus.AVAILABLE
    ]
    dated = [
        Candidate(c.balance_key, c.free, c.received_at, c.lot_status, c.expires_on, True)
        for c in pool
        if c.lot_status is LotStatus.AVAILABLE
    ]
    skipped = sum(c.free for c in undated if usable(c, TODAY)) - sum(
        c.free for c in dated if usable(c, TODAY)
    )
    assert expired_unmarked(pool, TODAY) == skipped


def test_what_can_be_promised_never_goes_below_zero() -> None:
    assert available_to_promise(on_hand=10, reserved=3, allocated=2, held=1) == 4
    # reserved before its lot expired: more is promised than is left
    assert available_to_promise(on_hand=10, reserved=6, allocated=0, held=5) == 0
