"""Reorder suggestion arithmetic (domain/replenishment.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.forecast import forecast
from domain.replenishment import (
    Policy,
    Position,
    SuggestionRule,
    days_of_cover,
    explain,
    round_up_to_multiple,
    suggest,
)

quantities = st.integers(min_value=0, max_value=10**6)


def policy(**changes: object) -> Policy:
    fields: dict[str, object] = {
        "lead_time_days": 7,
        "lead_time_source": "the item's lead time",
        "reorder_point": 50,
        "safety_stock": 20,
        "max_stock": None,
        "purchase_multiple": 12,
    }
    return Policy(**(fields | changes))  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=1, max_value=1000))
def test_rounding_goes_up_to_the_multiple_and_never_below_zero(
    quantity: int, multiple: int
) -> None:
    rounded = round_up_to_multiple(quantity, multiple)

    assert rounded >= 0 and rounded % multiple == 0
    if quantity > 0:
        assert quantity <= rounded < quantity + multiple
    else:
        assert rounded == 0


def test_the_forecast_rule_orders_lead_time_demand_plus_safety_stock_less_the_position() -> None:
    position = Position(on_hand=14, available=12, incoming=30)

    s = suggest(position, policy(), daily_demand=10.0)

    # position 12 + 30 = 42; 7 days x 10 = 70; 70 + 20 - 42 = 48 = 4 x 12
    assert (s.rule, s.position, s.demand_over_lead_time, s.needed, s.quantity) == (
        SuggestionRule.FORECAST,
        42,
        70,
        48,
        48,
    )
    assert s.days_of_cover == 1.2


def test_min_max_orders_up_to_the_max_once_the_position_reaches_the_reorder_point() -> None:
    position = Position(on_hand=10, available=10, incoming=0)

    s = suggest(position, policy(max_stock=200, purchase_multiple=25), daily_demand=1.0)

    # 10 <= reorder point 50: 200 - 10 = 190, up to a multiple of 25 = 200
    assert (s.rule, s.needed, s.quantity) == (SuggestionRule.MIN_MAX, 190, 200)


def test_above_the_reorder_point_a_min_max_item_follows_the_forecast() -> None:
    s = suggest(Position(on_hand=60, available=60, incoming=0), policy(max_stock=200), 0.0)

    assert (s.rule, s.quantity, s.days_of_cover) == (SuggestionRule.FORECAST, 0, None)


@given(
    quantities,
    quantities,
    st.floats(min_value=0, max_value=10_000, allow_nan=False),
    st.integers(min_value=0, max_value=365),
    quantities,
    quantities,
    st.none() | quantities,
    st.integers(min_value=1, max_value=500),
)
def test_a_suggestion_is_never_negative_and_a_multiple_that_covers_the_need(
    available: int,
    incoming: int,
    daily: float,
    lead_time: int,
    reorder_point: int,
    safety_stock: int,
    max_stock: int | None,
    multiple: int,
) -> None:
    p = policy(
        lead_time_days=lead_time,
        reorder_point=reorder_point,
        safety_stock=safety_stock,
        max_stock=max_stock,
        purchase_multiple=multiple,
    )
    position = Position(on_hand=available, available=available, incoming=incoming)

    s = suggest(position, p, daily)

    assert s.quantity >= 0 and s.quantity % multiple == 0
    assert s.quantity >= s.needed and s.quantity < max(s.needed, 0) + multiple
    assert s.demand_over_lead_time >= lead_time * daily - 1e-6
    if s.rule is SuggestionRule.MIN_MAX:
        assert max_stock is not None and position.total <= reorder_point
        assert position.total + s.quantity >= max_stock
    else:
        assert position.total + s.quantity >= s.demand_over_lead_time + safety_stock


def test_days_of_cover_is_none_without_demand_and_never_negative() -> None:
    assert days_of_cover(10, 0.0) is None
    assert days_of_cover(-5, 2.0) == 0.0
    assert days_of_cover(7, 2.0) == 3.5


def test_the_explanation_states_every_number() -> None:
    position = Position(on_hand=14, available=12, incoming=30)
    predicted = forecast([10.0] * 30, horizon=7)
    s = suggest(position, policy(), predicted.daily)

    lines = explain(s, position, policy(), predicted, lambda q: f"{q:g} ea")

    assert lines[0] == "position = available 12 ea + incoming 30 ea = 42 ea"
    assert "lead time = 7 days (the item's lead time)" in lines
    assert lines[-2] == (
        "rule forecast: demand over lead time 70 ea + safety stock 20 ea - position 42 ea = 48 ea"
    )
    assert lines[-1] == (
        "suggested = 48 ea rounded up to a multiple of 12 ea, never below zero = 48 ea"
    )


def test_backordered_demand_lowers_the_position_and_is_explained() -> None:
    position = Position(on_hand=14, available=12, incoming=30, backordered=12)

    predicted = forecast([10.0] * 30, horizon=7)
    s = suggest(position, policy(), predicted.daily)

    # position 12 + 30 - 12 = 30; 70 + 20 - 30 = 60 = 5 x 12
    assert (s.position, s.needed, s.quantity) == (30, 60, 60)
    lines = explain(s, position, policy(), predicted, lambda q: f"{q:g} ea")
    assert lines[0] == "position = available 12 ea + incoming 30 ea - backordered 12 ea = 30 ea"
