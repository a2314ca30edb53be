"""Request and response bodies for items, warehouses and locations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    Bounded,
    Code,
    Identifier,
    Keyword,
    Name,
    NonNegativeQuantity,
    PositiveQuantity,
    Printable,
    Quantity,
    WarehouseCode,
)
from api.schemas.shipping import AddressBody, AddressPublic
from db.models import Item, Location, Warehouse
from db.stock.lookups import uom_of
from domain.allocation import BackorderPolicy, Strategy
from domain.catalogue import ItemSpec, LocationSpec, LocationType, SupplierSpec, WarehouseSpec
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


Days = Annotated[int, Field(ge=0, le=3650)]
Barcode = Annotated[
    str,
    Printable(max_length=14),
    Field(
        examples=["4006381333931"],
        description="a GTIN/EAN/UPC (8, 12, 13 or 14 digits with its check digit), "
        "unique within the tenant",
    ),
]


class SupplierBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier: Identifier = Field(examples=["ACME"])
    lead_time_days: Days = Field(examples=[7])
    purchase_multiple: PositiveQuantity | None = Field(
        None, description="this supplier's multiple, when it differs from the item's"
    )


class ReplenishmentFields(BaseModel):
    """What replenishment reads: the same fields on create, update and read."""

    lead_time_days: Days | None = Field(
        None, description="days from ordering to arrival; null: the configured default"
    )
    purchase_multiple: PositiveQuantity | None = Field(
        None,
        description="purchases are rounded up to a multiple of this; null on create: one "
        "minimum increment",
    )
    max_stock: NonNegativeQuantity | None = Field(
        None, description="what a min/max rule orders up to; above it the item is `overstock`"
    )
    expiry_warning_days: Days | None = Field(
        None, description="lots expiring within this many days are `expiring`; null: default"
    )
    default_supplier: Identifier | None = None
    active: bool = True
    suppliers: list[SupplierBody] = Field(
        default_factory=list, max_length=50, description="shown by supplier name"
    )
    barcodes: list[Barcode] = Field(
        default_factory=list, max_length=50, description="shown in order of their digits"
    )


class ItemCreate(ReplenishmentFields):
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
                    "reorder_point": 40,
                    "max_stock": 200,
                    "lead_time_days": 10,
                    "purchase_multiple": 50,
                    "default_supplier": "ACME",
                    "suppliers": [{"supplier": "ACME", "lead_time_days": 10}],
                    "barcodes": ["4006381333931"],
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
        multiple = self.purchase_multiple
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
            lead_time_days=self.lead_time_days,
            purchase_multiple=(
                uom.increment_base
                if multiple is None
                else uom.to_base(multiple, field="purchase_multiple")
            ),
            max_stock=None
            if self.max_stock is None
            else uom.to_base(self.max_stock, field="max_stock"),
            expiry_warning_days=self.expiry_warning_days,
            default_supplier=self.default_supplier,
            active=self.active,
            suppliers=tuple(
                SupplierSpec(
                    supplier=s.supplier,
                    lead_time_days=s.lead_time_days,
                    purchase_multiple=None
                    if s.purchase_multiple is None
                    else uom.to_base(s.purchase_multiple, field=f"suppliers.{n}.purchase_multiple"),
                )
                for n, s in enumerate(self.suppliers)
            ),
            barcodes=tuple(self.barcodes),
        )


class ItemPublic(ReplenishmentFields):
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
    def of(
        cls,
        item: Item,
        suppliers: Sequence[SupplierSpec] = (),
        barcodes: Sequence[str] = (),
    ) -> ItemPublic:
        """The item as the API shows it, with its suppliers and barcodes."""
        uom = uom_of(item)
        display = uom.to_display

        def maybe(base: int | None) -> Decimal | None:
            return None if base is None else display(base)

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
            backorder_limit=maybe(item.backorder_limit),
            lead_time_days=item.lead_time_days,
            purchase_multiple=display(item.purchase_multiple),
            max_stock=maybe(item.max_stock),
            expiry_warning_days=item.expiry_warning_days,
            default_supplier=item.default_supplier,
            active=item.active,
            suppliers=[
                SupplierBody(
                    supplier=s.supplier,
                    lead_time_days=s.lead_time_days,
                    purchase_multiple=maybe(s.purchase_multiple),
                )
                for s in suppliers
            ],
            barcodes=list(barcodes),
            created_at=item.created_at,
        )


class WarehousePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    priority: int
    timezone: str
    active: bool
    address: AddressPublic | None = Field(
        None, description="where goods ship from and purchase orders are delivered to"
    )
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
    address: AddressBody | None = Field(
        None, description="where goods ship from and purchase orders are delivered to"
    )
    locations: list[LocationCreate] = Field(
        default_factory=list,
        max_length=1000,
        description="created with the warehouse, in order (a parent before its children); "
        "without a `staging` location among them the warehouse gets one, `STAGE`",
    )

    def to_domain(self) -> WarehouseSpec:
        address = None if self.address is None else self.address.model_dump(mode="json")
        return WarehouseSpec(
            self.code, self.name, self.priority, self.timezone, self.active, address
        )

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
