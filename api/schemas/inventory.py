"""Request and response bodies for stock: receipts, adjustments, moves, counts,
reservations, balances, availability and the ledger (display quantities)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.backorders import IncomingPublic
from api.schemas.common import (
    Code,
    Identifier,
    NonNegativeQuantity,
    PositiveQuantity,
    Quantity,
    Serial,
    SignedQuantity,
    Text,
    WarehouseCode,
)
from domain.stock import MovementType


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptLineBody(_Body):
    sku: Code
    quantity: PositiveQuantity
    lot: Code | None = None
    expires_at: date | None = Field(None, description="lot expiry (track_expiry items)")
    manufactured_at: date | None = None
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)


class ReceiptCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "warehouse": "WH1",
                    "location": "A-01",
                    "reference": "PO-1001",
                    "lines": [
                        {"sku": "TSHIRT-M", "quantity": 40},
                        {
                            "sku": "MILK-1L",
                            "quantity": 24,
                            "lot": "L-0425",
                            "expires_at": "2026-12-31",
                        },
                    ],
                }
            ]
        }
    )

    warehouse: WarehouseCode
    location: Code
    reference: Identifier | None = None
    lines: list[ReceiptLineBody] = Field(min_length=1, max_length=1000)


class AdjustmentCreate(_Body):
    warehouse: WarehouseCode
    location: Code
    sku: Code
    lot: Code | None = None
    delta: SignedQuantity = Field(description="positive adds, negative removes")
    reason: Text
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)


class LotReleaseCreate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"sku": "MUG", "lot": "RMA-1-Q", "reason": "inspection passed"}]
        },
    )

    sku: Code
    lot: Code
    reason: Text


class LotReleasePublic(BaseModel):
    sku: str
    lot: str
    previous_status: str
    status: str = "available"
    released: dict[str, Quantity] = Field(description="per warehouse, now available")


class MoveCreate(_Body):
    warehouse: WarehouseCode
    from_location: Code
    to_location: Code
    sku: Code
    lot: Code | None = None
    quantity: PositiveQuantity
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)


class CountLineBody(_Body):
    sku: Code
    lot: Code | None = None
    counted: NonNegativeQuantity


class CycleCountCreate(_Body):
    warehouse: WarehouseCode
    location: Code
    counts: list[CountLineBody] = Field(min_length=1, max_length=1000)
    reason: Text


class MovementPublic(BaseModel):
    id: int
    type: MovementType
    sku: str
    quantity: Quantity
    from_location: str | None
    to_location: str | None
    lot: str | None
    serial: str | None


class MovementsPublic(BaseModel):
    movements: list[MovementPublic]


class CycleCountPublic(BaseModel):
    adjustments: list[MovementPublic] = Field(description="one per counted difference")


class ReservationCreate(_Body):
    warehouse: WarehouseCode
    sku: Code
    lot: Code | None = None
    quantity: PositiveQuantity = Field(
        description="rounded to the item's increment by its rounding mode"
    )
    source_type: str = Field("manual", pattern="^(manual|pos|transfer|order)$")
    source_id: Identifier | None = None
    expires_at: datetime | None = None


class ReservationPublic(BaseModel):
    id: int
    warehouse: str
    sku: str
    lot: str | None
    requested: Quantity
    quantity: Quantity = Field(description="still reserved")
    status: str


class ReleaseBody(_Body):
    quantity: PositiveQuantity | None = Field(None, description="default: all still reserved")


class AllocateBody(_Body):
    quantity: PositiveQuantity | None = Field(None, description="default: all still reserved")


class AllocationPublic(BaseModel):
    id: int
    reservation_id: int | None
    warehouse: str
    location: str
    sku: str
    lot: str | None
    serial: str | None
    quantity: Quantity
    status: str


class AllocationResultPublic(BaseModel):
    reservation: ReservationPublic | None
    allocations: list[AllocationPublic]
    shortfall: Quantity = Field(description="what could not be allocated; it stays reserved")


class PlacePublic(BaseModel):
    location: str
    lot: str | None
    serial: str | None
    expires_at: date | None
    lot_status: str | None = Field(
        None,
        description="available, hold, quarantine, expired (a lot past its expiry date "
        "reads expired from that day on)",
    )
    on_hand: Quantity
    allocated: Quantity
    available: Quantity


class BalancePublic(BaseModel):
    sku: str
    warehouse: str
    unit: str
    on_hand: Quantity
    reserved: Quantity
    allocated: Quantity
    available: Quantity = Field(description="on_hand - reserved - allocated - held (never < 0)")
    held: Quantity = Field(
        description="on hand in lots on hold, in quarantine or past their expiry date"
    )
    in_transit: Quantity
    incoming: Quantity
    locations: list[PlacePublic]


class WarehouseAvailability(BaseModel):
    warehouse: str
    on_hand: Quantity
    reserved: Quantity
    allocated: Quantity
    available: Quantity = Field(description="on_hand - reserved - allocated - held (never < 0)")
    held: Quantity = Field(
        description="on hand in lots on hold, in quarantine or past their expiry date"
    )
    in_transit: Quantity
    incoming: Quantity
    incoming_by_date: list[IncomingPublic] = Field(
        default_factory=list,
        description="what `incoming` is made of: each open PO line and transfer in "
        "transit, earliest first",
    )


class AvailabilityPublic(BaseModel):
    sku: str
    unit: str
    available: Quantity = Field(description="across all warehouses")
    items: list[WarehouseAvailability]


class LedgerEntry(MovementPublic):
    warehouse: str
    reference_type: str
    reference_id: str | None
    actor: str
    reason: str | None
    created_at: datetime


class ShortagePublic(BaseModel):
    line: int
    sku: str
    warehouse: str
    location: str | None
    lot: str | None
    requested: Quantity
    available: Quantity


class StockDayPublic(BaseModel):
    day: date = Field(description="a UTC day")
    on_hand: Quantity = Field(description="on hand at the day's end (today: now)")
    demand: Quantity = Field(description="shipped minus returned to stock that day")


class OnHandHistoryPublic(BaseModel):
    sku: str
    warehouse: str | None = Field(description="null: all warehouses together")
    unit: str
    days: list[StockDayPublic] = Field(description="oldest first, one per day, today last")
