from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.quantities import QuantityError, Rounding, UnitOfMeasure

YARD = UnitOfMeasure("yd", 4, Decimal("0.25"), Decimal("1"), Rounding.UP)


@st.composite
def units(draw: st.DrawFn) -> UnitOfMeasure:
    # bases whose fractions are exact decimals (quarter-yards, grams, cents...)
    base = draw(st.sampled_from([1, 2, 4, 5, 8, 10, 16, 20, 25, 100, 1000]))
    step_base = draw(st.sampled_from([d for d in range(1, base + 1) if base % d == 0] + [base * 2]))
    increment = Decimal(step_base) / Decimal(base)
    cut = increment * draw(st.integers(0, 5))
    return UnitOfMeasure("u", base, increment, cut, draw(st.sampled_from(list(Rounding))))


@given(units(), st.integers(0, 10**9))
def test_display_quantity_round_trips_through_base_units(uom: UnitOfMeasure, steps: int) -> None:
    base = steps * uom.increment_base
    assert uom.to_base(uom.to_display(base)) == base


@given(units(), st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4))
def test_demand_rounds_to_a_whole_increment_by_the_mode(uom: UnitOfMeasure, qty: Decimal) -> None:
    try:
        base = uom.demand_to_base(qty)
    except QuantityError:
        return  # below min cut or rounds to nothing: refused, checked elsewhere
    assert base % uom.increment_base == 0
    assert base >= max(uom.min_cut_base, uom.increment_base)
    display = uom.to_display(base)
    step = uom.min_increment
    if uom.rounding is Rounding.UP:
        assert qty <= display < qty + step
    elif uom.rounding is Rounding.DOWN:
        assert qty - step < display <= qty
    else:
        assert abs(display - qty) <= step / 2


def test_yards_in_quarter_yard_base_units() -> None:
    assert YARD.to_base(Decimal("2.75")) == 11
    assert YARD.to_display(11) == Decimal("2.75")
    assert YARD.to_display(8) == Decimal("2")
    assert YARD.demand_to_base(Decimal("1.1")) == 5  # rounded up to 1.25 yd


def test_a_stock_quantity_finer_than_the_increment_is_refused() -> None:
    with pytest.raises(QuantityError, match=r"finer than the item.s increment 0\.25") as error:
        YARD.to_base(Decimal("1.3"), field="lines.0.quantity")
    assert error.value.field == "lines.0.quantity"


def test_a_quantity_with_more_digits_than_the_context_keeps_is_not_taken_for_a_whole_one() -> None:
    long = Decimal("1.000000000000000000000000000001")  # 31 digits; the default context keeps 28
    with pytest.raises(QuantityError, match="finer than the item"):
        YARD.to_base(long)
    with pytest.raises(QuantityError, match="finer than the item"):
        UnitOfMeasure().to_base(long)
    assert YARD.demand_to_base(long) == 5  # rounded up to 1.25 yd, not down to 1


def test_demand_below_the_minimum_cut_is_refused() -> None:
    with pytest.raises(QuantityError, match="below the minimum cut 1"):
        YARD.demand_to_base(Decimal("0.5"))


def test_demand_that_rounds_to_nothing_is_refused() -> None:
    each = UnitOfMeasure(rounding=Rounding.DOWN)
    with pytest.raises(QuantityError, match="rounds to nothing"):
        each.demand_to_base(Decimal("0.4"))


@pytest.mark.parametrize("qty", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_demand_must_be_a_positive_number(qty: Decimal) -> None:
    with pytest.raises(QuantityError):
        YARD.demand_to_base(qty)


def test_an_increment_that_is_not_whole_base_units_is_refused() -> None:
    with pytest.raises(QuantityError, match="whole number of base units") as error:
        UnitOfMeasure("yd", 4, Decimal("0.1"))
    assert error.value.field == "uom.min_increment"


def test_a_minimum_cut_off_the_increment_grid_is_refused() -> None:
    with pytest.raises(QuantityError, match="multiple of min_increment"):
        UnitOfMeasure("yd", 4, Decimal("0.5"), Decimal("0.75"))
