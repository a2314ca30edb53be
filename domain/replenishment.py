"""Reorder suggestions: how much to buy of one SKU for one warehouse, by which rule,
and why. All quantities are base units; the API words them in display units.

* position = available + incoming (open purchase-order lines and transfers on the way)
  - backordered (order lines waiting for stock, counted at the warehouse that would
  serve them first: the order's preferred warehouse, else the first by priority)
* rule `min_max`, when the item has a `max_stock` and position <= reorder point:
  order up to the max, needed = max_stock - position;
* rule `forecast` otherwise: needed = forecast demand over the lead time + safety
  stock - position (the demand rounded up to whole base units);
* the quantity is `needed` rounded UP to the purchase multiple, never below zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.forecast import Forecast


class SuggestionRule(StrEnum):
    MIN_MAX = "min_max"
    FORECAST = "forecast"


class StockStatus(StrEnum):
    """An inventory health row's status, the first that holds, in this order:
    backordered (open order lines of the SKU wait and nothing is available here),
    out_of_stock (nothing available), low_stock (available <= the low-stock
    threshold), overstock (a max_stock is set and on hand exceeds it), in_stock."""

    BACKORDERED = "backordered"
    OUT_OF_STOCK = "out_of_stock"
    LOW_STOCK = "low_stock"
    OVERSTOCK = "overstock"
    IN_STOCK = "in_stock"


@dataclass(frozen=True, kw_only=True)
class Position:
    on_hand: int
    available: int
    incoming: int
    backordered: int = 0  # demand already waiting for this warehouse's stock

    @property
    def total(self) -> int:
        return self.available + self.incoming - self.backordered


@dataclass(frozen=True, kw_only=True)
class Policy:
    lead_time_days: int
    lead_time_source: str  # where the lead time comes from, for the explanation
    reorder_point: int
    safety_stock: int
    max_stock: int | None
    purchase_multiple: int


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    rule: SuggestionRule
    position: int
    demand_over_lead_time: int
    needed: int  # before rounding; zero or below means nothing to buy
    quantity: int
    days_of_cover: float | None


def round_up_to_multiple(quantity: int, multiple: int) -> int:
    """`quantity` rounded up to a multiple of `multiple` (>= 1); never below zero."""
    if quantity <= 0:
        return 0
    return -(-quantity // multiple) * multiple


def days_of_cover(available: int, daily_demand: float) -> float | None:
    """How many days what is available lasts at this demand (None: no demand)."""
    if daily_demand <= 0:
        return None
    return round(max(available, 0) / daily_demand, 1)


def demand_over(days: int, daily_demand: float) -> int:
    """Demand over `days`, rounded up to whole base units (float noise forgiven)."""
    return max(math.ceil(days * daily_demand - 1e-9), 0)


def suggest(position: Position, policy: Policy, daily_demand: float) -> Suggestion:
    lead_demand = demand_over(policy.lead_time_days, daily_demand)
    if policy.max_stock is not None and position.total <= policy.reorder_point:
        rule, needed = SuggestionRule.MIN_MAX, policy.max_stock - position.total
    else:
        rule = SuggestionRule.FORECAST
        needed = lead_demand + policy.safety_stock - position.total
    return Suggestion(
        rule=rule,
        position=position.total,
        demand_over_lead_time=lead_demand,
        needed=needed,
        quantity=round_up_to_multiple(needed, policy.purchase_multiple),
        days_of_cover=days_of_cover(position.available, daily_demand),
    )


def explain(
    suggestion: Suggestion,
    position: Position,
    policy: Policy,
    forecast: Forecast,
    amount: Callable[[float], str],
) -> list[str]:
    """Each number of a suggestion as a sentence; `amount` words base units."""
    s, q = suggestion, amount
    accuracy = (
        f"backtest MAE {forecast.mae:.2f}/day, MASE {forecast.mase:.2f} vs naive"
        if forecast.mae is not None and forecast.mase is not None
        else "history too short to backtest"
    )
    lines = [
        f"position = available {q(position.available)} + incoming {q(position.incoming)}"
        + (f" - backordered {q(position.backordered)}" if position.backordered else "")
        + f" = {q(s.position)}",
        f"forecast daily demand = {q(forecast.daily)} by {forecast.method.value} ({accuracy})",
        f"lead time = {policy.lead_time_days} days ({policy.lead_time_source})",
        f"demand over lead time = {policy.lead_time_days} x {q(forecast.daily)}"
        f" = {q(s.demand_over_lead_time)} (rounded up)",
        "days of cover = "
        + (
            f"available {q(position.available)} / {q(forecast.daily)} per day = {s.days_of_cover}"
            if s.days_of_cover is not None
            else "none: no demand forecast"
        ),
    ]
    if s.rule is SuggestionRule.MIN_MAX:
        lines.append(
            f"rule min_max: position {q(s.position)} <= reorder point"
            f" {q(policy.reorder_point)}, order up to max {q(policy.max_stock or 0)}:"
            f" {q(policy.max_stock or 0)} - {q(s.position)} = {q(s.needed)}"
        )
    else:
        lines.append(
            f"rule forecast: demand over lead time {q(s.demand_over_lead_time)} + safety stock"
            f" {q(policy.safety_stock)} - position {q(s.position)} = {q(s.needed)}"
        )
    lines.append(
        f"suggested = {q(s.needed)} rounded up to a multiple of"
        f" {q(policy.purchase_multiple)}, never below zero = {q(s.quantity)}"
    )
    return lines
