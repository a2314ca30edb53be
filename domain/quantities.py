"""Quantities: stock is kept as integers in an item's base unit; people and
clients speak decimals in its display unit. Conversion happens at the edge.

Example: fabric sold by the yard, stocked in quarter-yards:
`UnitOfMeasure(unit="yd", base_units_per_unit=4, min_increment=Decimal("0.25"),
min_cut=Decimal("1"), rounding=Rounding.UP)`.

* Stock quantities (receipts, adjustments, moves, counts, picks) must be exact:
  a multiple of `min_increment`, else `QuantityError`.
* Demand quantities (order lines, reservations) are rounded to `min_increment` by
  the item's `rounding` mode and must reach `min_cut`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    Inexact,
    InvalidOperation,
    localcontext,
)
from enum import StrEnum

from domain.errors import InvalidInput


class Rounding(StrEnum):
    UP = "up"
    DOWN = "down"
    NEAREST = "nearest"


_DECIMAL_ROUNDING = {
    Rounding.UP: ROUND_CEILING,
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
}


class QuantityError(InvalidInput):
    code = "invalid-quantity"


@dataclass(frozen=True)
class UnitOfMeasure:
    unit: str = "ea"
    base_units_per_unit: int = 1
    min_increment: Decimal = Decimal(1)
    min_cut: Decimal = Decimal(0)
    rounding: Rounding = Rounding.UP

    def __post_init__(self) -> None:
        if self.base_units_per_unit < 1:
            raise QuantityError("base_units_per_unit must be at least 1", field="uom")
        step = self.min_increment * self.base_units_per_unit
        if self.min_increment <= 0 or step != step.to_integral_value():
            raise QuantityError(
                f"min_increment {self.min_increment} must be a positive whole number of base "
                f"units (1/{self.base_units_per_unit} {self.unit})",
                field="uom.min_increment",
            )
        if self.min_cut < 0 or (self.min_cut % self.min_increment) != 0:
            raise QuantityError(
                f"min_cut {self.min_cut} must be zero or a multiple of min_increment "
                f"{self.min_increment}",
                field="uom.min_cut",
            )

    @property
    def increment_base(self) -> int:
        """min_increment in base units."""
        return int(self.min_increment * self.base_units_per_unit)

    @property
    def min_cut_base(self) -> int:
        return int(self.min_cut * self.base_units_per_unit)

    def to_base(self, quantity: Decimal, *, field: str = "quantity") -> int:
        """An exact stock quantity in base units; refuses what is not a multiple of
        min_increment. Zero and negative values pass through (callers decide)."""
        steps, exact = _steps(quantity, self.min_increment, field)
        if not exact or steps != steps.to_integral_value():
            raise QuantityError(
                f"{quantity} {self.unit} is finer than the item's increment "
                f"{self.min_increment} {self.unit}",
                field=field,
            )
        return int(steps) * self.increment_base

    def demand_to_base(self, quantity: Decimal, *, field: str = "quantity") -> int:
        """A demanded quantity (order line, reservation) in base units: positive,
        rounded to min_increment by the rounding mode, at least min_cut."""
        steps, _ = _steps(quantity, self.min_increment, field)
        if quantity <= 0:
            raise QuantityError(f"{field} must be positive", field=field)
        rounded = int(steps.to_integral_value(rounding=_DECIMAL_ROUNDING[self.rounding]))
        if rounded == 0:
            raise QuantityError(
                f"{quantity} {self.unit} rounds to nothing (increment {self.min_increment})",
                field=field,
            )
        base = rounded * self.increment_base
        if base < self.min_cut_base:
            raise QuantityError(
                f"{quantity} {self.unit} is below the minimum cut {self.min_cut} {self.unit}",
                field=field,
            )
        return base

    def to_display(self, base: int) -> Decimal:
        """Base units back to the display unit (exact)."""
        value = Decimal(base) / Decimal(self.base_units_per_unit)
        return value.normalize() if value != value.to_integral_value() else value.quantize(1)


def _steps(quantity: Decimal, increment: Decimal, field: str) -> tuple[Decimal, bool]:
    """How many increments `quantity` is, and whether that quotient is exact. The
    precision grows with the quantity's digits, so 1.000000000000000000000000000001
    is not taken for 1."""
    try:
        if not quantity.is_finite():
            raise InvalidOperation
        with localcontext() as context:
            context.prec = max(context.prec, len(quantity.as_tuple().digits) + 28)
            context.clear_flags()
            steps = quantity / increment
            return steps, not context.flags[Inexact]
    except InvalidOperation as error:
        raise QuantityError(f"{field} {quantity} is not a number", field=field) from error


def positive(quantity: int, field: str = "quantity") -> int:
    if quantity <= 0:
        raise QuantityError(f"{field} must be positive", field=field)
    return quantity
