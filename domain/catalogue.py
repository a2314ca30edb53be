"""Catalogue definitions as data (display units; the db layer stores base units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, count

from domain.allocation import BackorderPolicy, Strategy
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
        for name in ("reorder_point", "safety_stock", "low_stock_threshold", "backorder_limit"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{name} must not be negative", field=name)
