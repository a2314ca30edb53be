"""Response bodies of reorder suggestions and inventory health (display units)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Quantity
from domain.forecast import Method
from domain.quantities import UnitOfMeasure
from domain.replenishment import StockStatus, SuggestionRule


class ArrivalPublic(BaseModel):
    expected_on: date | None = Field(
        description="the day an open purchase-order line is expected; null: a transfer in "
        "transit (no date)"
    )
    quantity: Quantity


class SuggestionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "TSHIRT-M",
                    "warehouse": "WH1",
                    "unit": "ea",
                    "on_hand": 14,
                    "available": 12,
                    "incoming": 30,
                    "incoming_by_date": [{"expected_on": "2026-12-08", "quantity": 30}],
                    "backordered": 0,
                    "forecast_daily_demand": 10,
                    "forecast_method": "ses",
                    "backtest_mae": 2.41,
                    "backtest_mase": 0.72,
                    "days_of_cover": 1.2,
                    "lead_time_days": 7,
                    "reorder_point": 50,
                    "safety_stock": 20,
                    "max_stock": None,
                    "purchase_multiple": 12,
                    "suggested_quantity": 48,
                    "rule": "forecast",
                    "explanation": [
                        "position = available 12 ea + incoming 30 ea = 42 ea",
                        "forecast daily demand = 10 ea by ses (backtest MAE 2.41/day, "
                        "MASE 0.72 vs naive)",
                        "lead time = 7 days (supplier ACME)",
                        "demand over lead time = 7 x 10 ea = 70 ea (rounded up)",
                        "days of cover = available 12 ea / 10 ea per day = 1.2",
                        "rule forecast: demand over lead time 70 ea + safety stock 20 ea"
                        " - position 42 ea = 48 ea",
                        "suggested = 48 ea rounded up to a multiple of 12 ea, never below"
                        " zero = 48 ea",
                    ],
                }
            ]
        }
    )

    sku: str
    warehouse: str
    unit: str
    on_hand: Quantity
    available: Quantity
    incoming: Quantity
    incoming_by_date: list[ArrivalPublic]
    backordered: Quantity = Field(
        description="order lines waiting for stock that this warehouse would serve first "
        "(the order's preferred warehouse, else the first by priority): position subtracts it"
    )
    forecast_daily_demand: Quantity
    forecast_method: Method
    backtest_mae: Quantity | None = Field(
        description="mean absolute one-day-ahead error over the history (units per day); "
        "null when the history is too short"
    )
    backtest_mase: float | None = Field(
        description="backtest_mae / the naive forecast's (yesterday's demand); below 1 beats it"
    )
    days_of_cover: float | None = Field(description="available / forecast daily demand")
    lead_time_days: int
    reorder_point: Quantity
    safety_stock: Quantity
    max_stock: Quantity | None
    purchase_multiple: Quantity
    suggested_quantity: Quantity
    rule: SuggestionRule
    explanation: list[str] = Field(description="each number above, as a sentence")


class HealthRowPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "TSHIRT-M",
                    "name": "T-shirt M",
                    "warehouse": "WH1",
                    "unit": "ea",
                    "status": "low_stock",
                    "available": 4,
                    "on_hand": 10,
                    "reserved": 2,
                    "allocated": 4,
                    "held": 0,
                    "incoming": 30,
                    "low_stock_threshold": 5,
                    "reorder_point": 20,
                    "safety_stock": 5,
                    "max_stock": 100,
                    "daily_demand": 2.5,
                    "days_of_cover": 1.6,
                }
            ]
        }
    )

    sku: str
    name: str
    warehouse: str
    unit: str
    status: StockStatus
    available: Quantity
    on_hand: Quantity
    reserved: Quantity
    allocated: Quantity
    held: Quantity
    incoming: Quantity
    low_stock_threshold: Quantity
    reorder_point: Quantity
    safety_stock: Quantity
    max_stock: Quantity | None
    daily_demand: Quantity = Field(
        description="net demand per day, averaged over the history window"
    )
    days_of_cover: float | None = Field(
        description="available / daily_demand, one decimal; null: no demand in the window"
    )


HEALTH_COLUMNS = list(HealthRowPublic.model_fields)


def rate_in(uom: UnitOfMeasure, base: float) -> Decimal:
    """A rate in base units (demand per day) in the display unit, to 3 decimals."""
    value = (Decimal(base) / uom.base_units_per_unit).quantize(Decimal("0.001"))
    return value.normalize() if value != value.to_integral_value() else value.quantize(1)
