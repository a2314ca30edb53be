"""Catalogue definitions as data (display units; the db layer stores base units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, count
from typing import Any

from domain.allocation import BackorderPolicy, Strategy
from domain.barcodes import check_barcodes
from domain.errors import InvalidInput
from domain.quantities import UnitOfMeasure


class LocationType(StrEnum):
    ZONE = "zone"
    AISLE = "aisle"
    RACK = "rack"
    BIN = "bin"
    SLOT = "slot"
    DOCK = "dock"
    STAGING = "staging"


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    priority: int = 100
    timezone: str = "UTC"
    active: bool = True
    address: dict[str, Any] | None = None  # the order's ship_to shape


@dataclass(frozen=True)
class LocationSpec:
    warehouse: str
    code: str
    type: LocationType
    parent_code: str | None = None
    pickable: bool | None = None  # default: not for docks and staging
    active: bool = True

    @property
    def is_pickable(self) -> bool:
        if self.pickable is not None:
            return self.pickable
        return self.type not in (LocationType.DOCK, LocationType.STAGING)


# The staging area a warehouse gets when it is created without one.
DEFAULT_STAGING = "STAGE"


def with_staging(warehouse: str, locations: Sequence[LocationSpec]) -> list[LocationSpec]:
    """A new warehouse's locations: the given ones, and a staging area when none of
    them is one (picked goods wait there to be packed: without one, no order could be
    fulfilled there). It is `STAGE`, or `STAGE-2`... when that code is taken."""
    if any(location.type is LocationType.STAGING for location in locations):
        return list(locations)
    taken = {location.code for location in locations}
    codes = chain([DEFAULT_STAGING], (f"{DEFAULT_STAGING}-{n}" for n in count(2)))
    code = next(c for c in codes if c not in taken)
    return [*locations, LocationSpec(warehouse, code, LocationType.STAGING)]


@dataclass(frozen=True, kw_only=True)
class SupplierSpec:
    """Who an item can be bought from: that supplier's lead time, and its purchase
    multiple in base units when it differs from the item's."""

    supplier: str
    lead_time_days: int
    purchase_multiple: int | None = None


@dataclass(frozen=True)
class ItemSpec:
    sku: str
    name: str
    uom: UnitOfMeasure = field(default_factory=UnitOfMeasure)
    track_lot: bool = False
    track_serial: bool = False
    track_expiry: bool = False
    requires_inspection: bool = False  # returned goods wait in quarantine
    default_strategy: Strategy = Strategy.FIFO
    reorder_point: int = 0  # base units
    safety_stock: int = 0
    low_stock_threshold: int = 0
    backorder_policy: BackorderPolicy = BackorderPolicy.DENY
    backorder_limit: int | None = None
    # replenishment (None: the settings' default; quantities in base units)
    lead_time_days: int | None = None
    purchase_multiple: int = 1
    max_stock: int | None = None
    expiry_warning_days: int | None = None
    default_supplier: str | None = None
    active: bool = True
    suppliers: tuple[SupplierSpec, ...] = ()
    barcodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.track_serial and (
            self.uom.base_units_per_unit != 1 or self.uom.increment_base != 1
        ):
            raise InvalidInput(
                "serial-tracked items are counted in whole units (base_units_per_unit 1, "
                "min_increment 1)",
                field="track_serial",
            )
        if self.track_expiry and not self.track_lot:
            raise InvalidInput(
                "expiry is tracked per lot: track_lot is required", field="track_expiry"
            )
        if self.default_strategy is Strategy.FEFO and not self.track_expiry:
            raise InvalidInput("fefo needs track_expiry", field="default_strategy")
        if (self.backorder_policy is BackorderPolicy.ALLOW_UNTIL) != (
            self.backorder_limit is not None
        ):
            raise InvalidInput(
                "backorder_limit goes with backorder_policy allow_until (and only with it)",
                field="backorder_limit",
            )
        for name in (
            "reorder_point",
            "safety_stock",
            "low_stock_threshold",
            "backorder_limit",
            "lead_time_days",
            "max_stock",
            "expiry_warning_days",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{name} must not be negative", field=name)
        self._check_replenishment()

    def _check_replenishment(self) -> None:
        if self.purchase_multiple < 1:
            raise InvalidInput("purchase_multiple must be positive", field="purchase_multiple")
        if self.max_stock is not None and self.max_stock < self.reorder_point:
            raise InvalidInput(
                "max_stock (what a min/max rule orders up to) must not be below reorder_point",
                field="max_stock",
            )
        names = [s.supplier for s in self.suppliers]
        for n, supplier in enumerate(self.suppliers):
            if names.index(supplier.supplier) != n:
                raise InvalidInput(
                    f"supplier {supplier.supplier!r} is listed twice", field=f"suppliers.{n}"
                )
            if supplier.lead_time_days < 0:
                raise InvalidInput(
                    "lead_time_days must not be negative", field=f"suppliers.{n}.lead_time_days"
                )
            if supplier.purchase_multiple is not None and supplier.purchase_multiple < 1:
                raise InvalidInput(
                    "purchase_multiple must be positive",
                    field=f"suppliers.{n}.purchase_multiple",
                )
        check_barcodes(self.barcodes)


# What may change only while an item has no stock and no open demand: quantities
# stored in base units, lots and serials would be read another way.
STOCK_BOUND_FIELDS = ("uom", "track_lot", "track_serial", "track_expiry")


def stock_bound_changes(old: ItemSpec, new: ItemSpec) -> list[str]:
    """The fields of `STOCK_BOUND_FIELDS` that differ between the two definitions."""
    return [name for name in STOCK_BOUND_FIELDS if getattr(old, name) != getattr(new, name)]
