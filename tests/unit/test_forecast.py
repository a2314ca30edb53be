"""Forecast methods and their backtest (domain/forecast.py)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.forecast import (
    WARM_UP,
    Method,
    backtest_mae,
    candidates,
    daily_series,
    forecast,
    forecast_ahead,
    is_intermittent,
    one_step_forecasts,
)

series_of = st.lists(st.integers(min_value=0, max_value=500), min_size=0, max_size=120).map(
    lambda xs: [float(x) for x in xs]
)
SMOOTHERS = [Method.SES, Method.CROSTON_SBA, Method.HOLT_WINTERS]


def weekly_seasonal_series(weeks: int, seed: int = 7) -> list[float]:
    """A week of quiet weekdays and a busy weekend, with noise of +-3 a day."""
    pattern = [10, 12, 11, 13, 25, 40, 6]
    noise = random.Random(seed)
    return [float(max(pattern[d % 7] + noise.randint(-3, 3), 0)) for d in range(weeks * 7)]


def test_the_forecast_beats_the_naive_forecast_on_a_synthetic_seasonal_series() -> None:
    series = weekly_seasonal_series(weeks=13)  # about the 90 days of history

    chosen = forecast(series, horizon=7)

    assert chosen.method is Method.HOLT_WINTERS
    assert chosen.mae is not None and chosen.naive_mae is not None and chosen.mase is not None
    assert chosen.mae < chosen.naive_mae
    assert chosen.mase < 0.5  # the naive forecast misses the weekend swing every week
    # and it beats the season-blind smoother it competed with
    ses = backtest_mae(Method.SES, series)
    assert ses is not None and chosen.mae < ses
    # the next week follows the pattern: Saturday (day 5 of the cycle) is the peak
    ahead = forecast_ahead(Method.HOLT_WINTERS, series, 7)
    assert ahead.index(max(ahead)) == (5 - len(series)) % 7


def test_sparse_demand_is_intermittent_and_croston_sba_forecasts_its_rate() -> None:
    series = [7.0 if d % 7 == 6 else 0.0 for d in range(70)]  # 7 once a week

    assert is_intermittent(series)
    assert Method.CROSTON_SBA in candidates(series)
    (rate,) = forecast_ahead(Method.CROSTON_SBA, series, 1)
    # size 7 every 7 days, times the SBA correction (1 - 0.1 / 2)
    assert rate == pytest.approx(0.95)


def test_regular_demand_is_not_intermittent() -> None:
    assert not is_intermittent([3.0, 4.0, 0.0, 5.0, 2.0, 3.0, 4.0])


def test_a_short_history_has_no_backtest_and_falls_back_to_smoothing() -> None:
    chosen = forecast([4.0] * WARM_UP, horizon=3)

    assert chosen.method is Method.SES
    assert chosen.mae is None and chosen.mase is None
    assert chosen.daily == pytest.approx(4.0)
    assert chosen.over_horizon == pytest.approx(12.0)


def test_no_history_forecasts_no_demand() -> None:
    chosen = forecast([], horizon=5)

    assert chosen.daily == 0.0 and chosen.mae is None


def test_missing_days_are_zero_and_a_day_with_more_returns_than_shipments_is_zero() -> None:
    first = date(2026, 1, 1)
    demand = {first: 5, first + timedelta(2): -3, first + timedelta(3): 2}

    assert daily_series(demand, first, first + timedelta(4)) == [5.0, 0.0, 0.0, 2.0, 0.0]


@given(series_of, st.integers(min_value=1, max_value=60))
def test_forecasts_are_never_negative(series: list[float], horizon: int) -> None:
    for method in SMOOTHERS:
        assert all(f >= 0 for f in forecast_ahead(method, series, horizon))
        assert all(f >= 0 for f in one_step_forecasts(method, series))
    assert forecast(series, horizon).daily >= 0


@given(series_of)
def test_smoothed_rates_stay_within_the_history(series: list[float]) -> None:
    top = max(series, default=0.0)
    for method in (Method.SES, Method.CROSTON_SBA):
        (rate,) = forecast_ahead(method, series, 1)
        assert 0 <= rate <= top + 1e-9


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=2 * WARM_UP, max_value=100))
def test_a_constant_demand_is_forecast_exactly(level: int, days: int) -> None:
    series = [float(level)] * days

    for method in (Method.SES, Method.HOLT_WINTERS):
        assert forecast_ahead(method, series, 7) == pytest.approx([level] * 7)
        assert backtest_mae(method, series) == pytest.approx(0)
    assert forecast(series, 7).daily == pytest.approx(level)
    # SBA's correction trades a bias of alpha / 2 on regular demand for none on sparse
    assert forecast_ahead(Method.CROSTON_SBA, series, 1) == pytest.approx([level * 0.95])


@given(series_of, st.integers(min_value=1, max_value=50))
def test_the_forecasts_scale_with_the_demand(series: list[float], factor: int) -> None:
    scaled = [y * factor for y in series]
    for method in SMOOTHERS:
        expected = [f * factor for f in forecast_ahead(method, series, 7)]
        assert forecast_ahead(method, scaled, 7) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@given(series_of)
def test_the_chosen_method_has_the_lowest_backtest_error_of_the_candidates(
    series: list[float],
) -> None:
    chosen = forecast(series, 7)

    assert chosen.method in candidates(series)
    for method in candidates(series):
        mae = backtest_mae(method, series)
        if mae is not None and chosen.mae is not None:
            assert chosen.mae <= mae
    if chosen.mase is not None and chosen.naive_mae:
        assert chosen.mase == pytest.approx((chosen.mae or 0) / chosen.naive_mae)
