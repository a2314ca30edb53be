"""An item's replenishment rules and what may change only without stock."""

from decimal import Decimal

import pytest

from domain.catalogue import ItemSpec, SupplierSpec, stock_bound_changes
from domain.errors import InvalidInput
from domain.quantities import UnitOfMeasure


def test_max_stock_below_the_reorder_point_is_refused_naming_max_stock() -> None:
    with pytest.raises(InvalidInput) as refused:
        ItemSpec("A", "a", reorder_point=10, max_stock=9)
    assert refused.value.field == "max_stock"
    assert ItemSpec("A", "a", reorder_point=10, max_stock=10).max_stock == 10


def test_a_supplier_listed_twice_or_a_zero_multiple_is_refused_naming_it() -> None:
    twice = (
        SupplierSpec(supplier="ACME", lead_time_days=3),
        SupplierSpec(supplier="ACME", lead_time_days=5),
    )
    with pytest.raises(InvalidInput) as refused:
        ItemSpec("A", "a", suppliers=twice)
    assert refused.value.field == "suppliers.1"
    with pytest.raises(InvalidInput) as zero:
        ItemSpec("A", "a", purchase_multiple=0)
    assert zero.value.field == "purchase_multiple"


def test_only_unit_and_tracking_changes_are_bound_to_stock() -> None:
    item = ItemSpec("A", "a", reorder_point=4)
    renamed = ItemSpec("A", "b", reorder_point=8, max_stock=20, lead_time_days=3)
    assert stock_bound_changes(item, renamed) == []
    same_unit = ItemSpec("A", "a", uom=UnitOfMeasure(min_increment=Decimal("1.000")))
    assert stock_bound_changes(item, same_unit) == []
    boxed = ItemSpec("A", "a", uom=UnitOfMeasure("box"), track_lot=True)
    assert stock_bound_changes(item, boxed) == ["uom", "track_lot"]
