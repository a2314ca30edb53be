"""Request and response bodies that change master data: an item's, a warehouse's or
a location's fields (only those given change), and an item import's outcome."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from api.schemas.catalogue import (
    Barcode,
    Days,
    ItemCreate,
    ItemPublic,
    SupplierBody,
)
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
)
from api.schemas.shipping import AddressBody
from domain.allocation import BackorderPolicy, Strategy
from domain.catalogue import ItemSpec
from domain.errors import InvalidInput
from domain.quantities import Rounding


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, not set to null")
    return value


class _Changes(BaseModel):
    """Only the fields given change; a field that has no "none" cannot be null."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UnitOfMeasureChanges(_Changes):
    unit: Annotated[str, Printable(max_length=16)] | None = None
    base_units_per_unit: int | None = Field(None, ge=1, le=1_000_000)
    min_increment: Annotated[Quantity, Bounded] | None = Field(None, gt=0)
    min_cut: Annotated[Quantity, Bounded] | None = Field(None, ge=0)
    rounding: Rounding | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _present(cls, value: Any) -> Any:
        return _not_null(value)


# What an item may have none of (null clears it).
_CLEARABLE = frozenset(
    {
        "backorder_limit",
        "lead_time_days",
        "purchase_multiple",
        "max_stock",
        "expiry_warning_days",
        "default_supplier",
    }
)


class ItemUpdate(_Changes):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Red cotton, 150 cm wide", "reorder_point": 60, "lead_time_days": 14},
                {"barcodes": ["4006381333931", "036000291452"], "active": False},
            ]
        },
    )

    name: Name | None = None
    uom: UnitOfMeasureChanges | None = Field(
        None,
        description="only while the item has no stock and no open demand (409 otherwise); "
        "unchanged quantities keep their value in the display unit",
    )
    track_lot: bool | None = Field(None, description="only while the item has no stock")
    track_serial: bool | None = Field(None, description="only while the item has no stock")
    track_expiry: bool | None = Field(None, description="only while the item has no stock")
    requires_inspection: bool | None = None
    default_strategy: Strategy | None = None
    reorder_point: NonNegativeQuantity | None = None
    safety_stock: NonNegativeQuantity | None = None
    low_stock_threshold: NonNegativeQuantity | None = None
    backorder_policy: BackorderPolicy | None = None
    backorder_limit: NonNegativeQuantity | None = None
    lead_time_days: Days | None = None
    purchase_multiple: PositiveQuantity | None = None
    max_stock: NonNegativeQuantity | None = None
    expiry_warning_days: Days | None = None
    default_supplier: Identifier | None = None
    active: bool | None = None
    suppliers: list[SupplierBody] | None = Field(
        None, max_length=50, description="replaces the item's suppliers"
    )
    barcodes: list[Barcode] | None = Field(
        None, max_length=50, description="replaces the item's barcodes"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _present(cls, value: Any, info: ValidationInfo) -> Any:
        return value if info.field_name in _CLEARABLE else _not_null(value)

    def applied_to(self, current: ItemPublic) -> ItemCreate:
        """The item's whole definition with these changes, checked by the rules an
        item is created with."""
        whole = current.model_dump(exclude={"created_at"})
        changes = self.changes()
        if "uom" in changes:
            changes["uom"] = {**whole["uom"], **changes["uom"]}
        else:  # kept as stored (`keeps_purchase_multiple`), even one set in base units
            whole["purchase_multiple"] = None
        try:
            return ItemCreate.model_validate({**whole, **changes})
        except ValidationError as error:  # a stored value the rules refuse now
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(f"{where}: {first['msg']}", field=where) from error

    def keeps_purchase_multiple(self) -> bool:
        """The stored purchase multiple stays as it is (base units)."""
        changes = self.changes()
        return "purchase_multiple" not in changes and "uom" not in changes


def stock_bound(current: ItemPublic) -> ItemSpec:
    """The parts of the item's definition that only change without stock."""
    return ItemSpec(
        current.sku,
        current.name,
        uom=current.uom.to_domain(),
        track_lot=current.track_lot,
        track_serial=current.track_serial,
        track_expiry=current.track_expiry,
    )


class WarehouseUpdate(_Changes):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Berlin Nord", "priority": 5},
                {
                    "address": {
                        "name": "OMS Berlin Nord",
                        "lines": ["Lagerstrasse 1"],
                        "city": "Berlin",
                        "postal_code": "13407",
                        "country": "DE",
                    }
                },
                {"active": False},
            ]
        },
    )

    name: Name | None = None
    priority: int | None = Field(None, ge=0, le=1_000_000, description="lower is chosen first")
    active: bool | None = Field(
        None,
        description="false: the warehouse takes no new orders, reservations or receipts; "
        "refused (409) while it has open work",
    )
    timezone: Keyword | None = Field(None, examples=["Europe/Berlin"])
    address: AddressBody | None = Field(None, description="null removes it")

    @field_validator("name", "priority", "active", "timezone", mode="before")
    @classmethod
    def _present(cls, value: Any) -> Any:
        return _not_null(value)

    def values(self) -> dict[str, Any]:
        """The warehouse columns to set."""
        values = self.changes()
        if "address" in values:
            values["address"] = (
                None if self.address is None else self.address.model_dump(mode="json")
            )
        return values


class LocationUpdate(_Changes):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"pickable": False}, {"parent_code": "ZONE-A"}]},
    )

    pickable: bool | None = None
    active: bool | None = Field(
        None, description="false: refused (409) while the location holds stock"
    )
    parent_code: Code | None = Field(
        None, description="a location of the same warehouse, not one inside this one; null: none"
    )

    @field_validator("pickable", "active", mode="before")
    @classmethod
    def _present(cls, value: Any) -> Any:
        return _not_null(value)


class ImportRowError(BaseModel):
    row: int = Field(description="the row's line number in the file (the header is line 1)")
    field: str = Field(examples=["reorder_point"], description="the column at fault")
    message: str


class ImportResult(BaseModel):
    created: int = Field(examples=[10000])
    skus: list[str] = Field(description="the SKUs created, in file order (first 100)")
    replayed: bool = False
