"""Daily demand forecasts for one SKU at one warehouse, and their backtest.

A series is the net demand of each day (shipped minus returned, never below zero),
oldest first. Three methods compete, each a small recursive smoother with fixed
parameters (no fitting, so a series of 90 days costs microseconds):

* `ses`: simple exponential smoothing (alpha 0.2), for regular demand;
* `croston_sba`: Croston's method with the Syntetos-Boylan correction (alpha 0.1),
  for intermittent demand; only a candidate when the average interval between
  demand days exceeds 1.32 days (Syntetos & Boylan's cut-off: more than about 24 %
  zero days);
* `holt_winters`: additive level + weekly seasonal indices (period 7, alpha 0.2,
  gamma 0.1), for demand that follows the day of the week; a candidate once the
  history holds four weeks (two to start the indices, two to test them).

The method of a series is the candidate with the lowest backtest MAE (ties go to the
simpler one, in the order above). The backtest is rolling-origin, one step ahead:
every day after a warm-up of two weeks is forecast from the days before it only.
MASE is that MAE divided by the MAE of the naive forecast (yesterday's demand) over
the same days: below 1 the method beats the naive forecast.

No library: statsforecast (numba) or statsmodels (numpy, scipy, pandas) would add
hundreds of megabytes to the service for these hundred lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

PERIOD = 7  # days in the seasonal cycle
WARM_UP = 2 * PERIOD  # days before the first forecast the backtest scores
INTERMITTENT_INTERVAL = 1.32  # mean days between demands above which demand is sparse


class Method(StrEnum):
    NAIVE = "naive"
    SES = "ses"
    CROSTON_SBA = "croston_sba"
    HOLT_WINTERS = "holt_winters"


class _Smoother(Protocol):
    def predict(self, horizon: int) -> list[float]:
        """The next `horizon` days, from what was seen so far."""

    def update(self, demand: float) -> None:
        """See one more day."""


class _Naive:
    def __init__(self) -> None:
        self.last = 0.0

    def predict(self, horizon: int) -> list[float]:
        return [self.last] * horizon

    def update(self, demand: float) -> None:
        self.last = demand


class _Ses:
    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha
        self.level: float | None = None

    def predict(self, horizon: int) -> list[float]:
        return [self.level or 0.0] * horizon

    def update(self, demand: float) -> None:
        self.level = (
            demand if self.level is None else self.level + self.alpha * (demand - self.level)
        )


class _CrostonSba:
    """Smooths the size of non-zero demands and the interval between them apart;
    the forecast rate is size / interval, times (1 - alpha / 2) to remove Croston's
    upward bias (Syntetos & Boylan, 2005)."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self.size: float | None = None
        self.interval = 1.0
        self.since = 0  # days since the last demand, this one included

    def predict(self, horizon: int) -> list[float]:
        rate = 0.0 if self.size is None else (1 - self.alpha / 2) * self.size / self.interval
        return [rate] * horizon

    def update(self, demand: float) -> None:
        self.since += 1
        if demand <= 0:
            return
        if self.size is None:
            self.size, self.interval = demand, float(self.since)
        else:
            self.size += self.alpha * (demand - self.size)
            self.interval += self.alpha * (self.since - self.interval)
        self.since = 0


class _HoltWinters:
    """Additive level and day-of-week indices, started from the first two weeks:
    the level is their mean, each index the mean excess of its weekday."""

    def __init__(self, alpha: float = 0.2, gamma: float = 0.1) -> None:
        self.alpha, self.gamma = alpha, gamma
        self.seen: list[float] = []
        self.level = 0.0
        self.season = [0.0] * PERIOD

    def predict(self, horizon: int) -> list[float]:
        if len(self.seen) < WARM_UP:
            mean = sum(self.seen) / len(self.seen) if self.seen else 0.0
            return [mean] * horizon
        t = len(self.seen)
        return [self.level + self.season[(t + h) % PERIOD] for h in range(horizon)]

    def update(self, demand: float) -> None:
        t = len(self.seen)
        self.seen.append(demand)
        if t + 1 == WARM_UP:
            self.level = sum(self.seen) / WARM_UP
            first, second = self.seen[:PERIOD], self.seen[PERIOD:]
            self.season = [(a + b) / 2 - self.level for a, b in zip(first, second, strict=True)]
        elif t >= WARM_UP:
            index = self.season[t % PERIOD]
            level = self.level + self.alpha * (demand - index - self.level)
            self.season[t % PERIOD] = index + self.gamma * (demand - level - index)
            self.level = level


_SMOOTHERS: dict[Method, Callable[[], _Smoother]] = {
    Method.NAIVE: _Naive,
    Method.SES: _Ses,
    Method.CROSTON_SBA: _CrostonSba,
    Method.HOLT_WINTERS: _HoltWinters,
}


def _not_negative(values: list[float]) -> list[float]:
    return [max(v, 0.0) for v in values]


def one_step_forecasts(method: Method, series: Sequence[float]) -> list[float]:
    """The forecast of each day made the evening before (day 0: from nothing)."""
    smoother = _SMOOTHERS[method]()
    forecasts = []
    for demand in series:
        forecasts.extend(_not_negative(smoother.predict(1)))
        smoother.update(demand)
    return forecasts


def forecast_ahead(method: Method, series: Sequence[float], horizon: int) -> list[float]:
    """The next `horizon` days after the series."""
    smoother = _SMOOTHERS[method]()
    for demand in series:
        smoother.update(demand)
    return _not_negative(smoother.predict(horizon))


def backtest_mae(method: Method, series: Sequence[float]) -> float | None:
    """Mean absolute one-step error over the days after the warm-up (None: too short)."""
    if len(series) <= WARM_UP:
        return None
    forecasts = one_step_forecasts(method, series)
    errors = [abs(f - y) for f, y in zip(forecasts[WARM_UP:], series[WARM_UP:], strict=True)]
    return sum(errors) / len(errors)


def is_intermittent(series: Sequence[float]) -> bool:
    """Sparse demand: the mean interval between demand days exceeds 1.32 days."""
    demand_days = sum(1 for y in series if y > 0)
    return demand_days == 0 or len(series) / demand_days > INTERMITTENT_INTERVAL


def candidates(series: Sequence[float]) -> list[Method]:
    """The methods that fit a series, simplest first."""
    methods = [Method.SES]
    if is_intermittent(series):
        methods.append(Method.CROSTON_SBA)
    if len(series) >= 2 * WARM_UP:
        methods.append(Method.HOLT_WINTERS)
    return methods


@dataclass(frozen=True, kw_only=True)
class Forecast:
    method: Method
    daily: float  # mean demand per day over the horizon, base units
    over_horizon: float  # total demand over the horizon, base units
    horizon: int
    mae: float | None  # backtest (None: history too short)
    naive_mae: float | None
    mase: float | None  # mae / naive_mae (None: too short, or a naive error of zero)


def forecast(series: Sequence[float], horizon: int) -> Forecast:
    """The best candidate by backtest MAE, and its forecast of the next `horizon` days
    (at least one)."""
    horizon = max(horizon, 1)
    scored = [(backtest_mae(m, series), m) for m in candidates(series)]
    best_mae, best = min(scored, key=lambda s: 0.0 if s[0] is None else s[0])
    naive = backtest_mae(Method.NAIVE, series)
    ahead = forecast_ahead(best, series, horizon)
    mase = None
    if best_mae is not None and naive:
        mase = best_mae / naive
    elif best_mae == 0 and naive == 0:
        mase = 0.0
    return Forecast(
        method=best,
        daily=sum(ahead) / horizon,
        over_horizon=sum(ahead),
        horizon=horizon,
        mae=best_mae,
        naive_mae=naive,
        mase=mase,
    )


def daily_series(demand: Mapping[date, int], first: date, last: date) -> list[float]:
    """Demand of each day from `first` to `last`, days without demand as zero and a
    day with more returned than shipped as zero (returns net a day's demand only)."""
    days = (last - first).days + 1
    return [float(max(demand.get(first + timedelta(d), 0), 0)) for d in range(days)]
