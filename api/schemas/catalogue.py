"""Request and response bodies for items, warehouses and locations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    Bounded,
    Code,
    Keyword,
    Name,
    NonNegativeQuantity,
    Printable,
    Quantity,
    WarehouseCode,
)
from db.models import Item, Location, Warehouse
from db.stock.lookups import uom_of
from domain.allocation import BackorderPolicy, Strategy
from domain.catalogue import ItemSpec, LocationSpec, LocationType, WarehouseSpec
from domain.quantities import Rounding, UnitOfMeasure


class UnitOfMeasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Annotated[str, Printable(max_length=16)] = Field("ea", examples=["yd"])
    base_units_per_unit: int = Field(1, ge=1, le=1_000_000, examples=[4])
    min_increment: Annotated[Quantity, Bounded] = Field(Decimal(1), gt=0, examples=[0.25])
    min_cut: Annotated[Quantity, Bounded] = Field(Decimal(0), ge=0, examples=[1])
    rounding: Rounding = Rounding.UP

    def to_domain(self) -> UnitOfMeasure:
        return UnitOfMeasure(
            self.unit, self.base_units_per_unit, self.min_increment, self.min_cut, self.rounding
        )


class ItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "FABRIC-RED",
                    "name": "Red cotton, by the yard",
                    "uom": {
                        "unit": "yd",
                        "base_units_per_unit": 4,
                        "min_increment": 0.25,
                        "min_cut": 1,
                        "rounding": "up",
                    },
                    "default_strategy": "fifo",
                    "backorder_policy": "allow",
                }
            ]
        },
    )

    sku: Code
    name: Name
    uom: UnitOfMeasureBody = Field(default_factory=UnitOfMeasureBody)
    track_lot: bool = False
    track_serial: bool = False
    track_expiry: bool = False
    requires_inspection: bool = Field(
        False, description="returned units go into a quarantine lot until inspected"
    )
    default_strategy: Strategy = Strategy.FIFO
    reorder_point: NonNegativeQuantity = Decimal(0)
    safety_stock: NonNegativeQuantity = Decimal(0)
    low_stock_threshold: NonNegativeQuantity = Decimal(0)
    backorder_policy: BackorderPolicy = BackorderPolicy.DENY
    backorder_limit: NonNegativeQuantity | None = Field(
        None, description="with allow_until: how much may wait for stock in all"
    )

    def to_domain(self) -> ItemSpec:
        uom = self.uom.to_domain()
        limit = self.backorder_limit
        return ItemSpec(
            sku=self.sku,
            name=self.name,
            uom=uom,
            track_lot=self.track_lot,
            track_serial=self.track_serial,
            track_expiry=self.track_expiry,
            requires_inspection=self.requires_inspection,
            default_strategy=self.default_strategy,
            reorder_point=uom.to_base(self.reorder_point, field="reorder_point"),
            safety_stock=uom.to_base(self.safety_stock, field="safety_stock"),
            low_stock_threshold=uom.to_base(self.low_stock_threshold, field="low_stock_threshold"),
            backorder_policy=self.backorder_policy,
            backorder_limit=None if limit is None else uom.to_base(limit, field="backorder_limit"),
        )


class ItemPublic(BaseModel):
    sku: str
    name: str
    uom: UnitOfMeasureBody
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    requires_inspection: bool
    default_strategy: Strategy
    reorder_point: Quantity
    safety_stock: Quantity
    low_stock_threshold: Quantity
    backorder_policy: BackorderPolicy
    backorder_limit: Quantity | None
    created_at: datetime

    @classmethod
    def of(cls, item: Item) -> ItemPublic:
        uom = uom_of(item)
        display = uom.to_display
        return cls(
            sku=item.sku,
            name=item.name,
            uom=UnitOfMeasureBody(
                unit=uom.unit,
                base_units_per_unit=uom.base_units_per_unit,
                min_increment=uom.min_increment,
                min_cut=uom.min_cut,
                rounding=uom.rounding,
            ),
            track_lot=item.track_lot,
            track_serial=item.track_serial,
            track_expiry=item.track_expiry,
            requires_inspection=item.requires_inspection,
            default_strategy=Strategy(item.default_strategy),
            reorder_point=display(item.reorder_point),
            safety_stock=display(item.safety_stock),
            low_stock_threshold=display(item.low_stock_threshold),
            backorder_policy=BackorderPolicy(item.backorder_policy),
            backorder_limit=None if item.backorder_limit is None else display(item.backorder_limit),
            created_at=item.created_at,
        )


class WarehousePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    priority: int
    timezone: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, warehouse: Warehouse) -> WarehousePublic:
        return cls.model_validate(warehouse)


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(examples=["A-01-02"])
    type: LocationType = Field(examples=["bin"])
    parent_code: Code | None = None
    pickable: bool | None = Field(None, description="default: false for dock and staging")
    active: bool = True

    def to_domain(self, warehouse: str) -> LocationSpec:
        return LocationSpec(
            warehouse, self.code, self.type, self.parent_code, self.pickable, self.active
        )


class WarehouseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: WarehouseCode = Field(examples=["WH1"])
    name: Name = Field(examples=["Berlin"])
    priority: int = Field(100, ge=0, le=1_000_000, description="lower is chosen first")
    timezone: Keyword = Field("UTC", examples=["Europe/Berlin"])
    active: bool = True
    locations: list[LocationCreate] = Field(
        default_factory=list,
        max_length=1000,
        description="created with the warehouse, in order (a parent before its children); "
        "without a `staging` location among them the warehouse gets one, `STAGE`",
    )

    def to_domain(self) -> WarehouseSpec:
        return WarehouseSpec(self.code, self.name, self.priority, self.timezone, self.active)

    def location_specs(self) -> list[LocationSpec]:
        return [location.to_domain(self.code) for location in self.locations]


class LocationPublic(BaseModel):
    code: str
    type: LocationType
    parent_code: str | None
    pickable: bool
    active: bool

    @classmethod
    def of(cls, location: Location, parent_code: str | None) -> LocationPublic:
        return cls(
            code=location.code,
            type=LocationType(location.type),
            parent_code=parent_code,
            pickable=location.pickable,
            active=location.active,
        )
