"""Tenant-scoped lookups by business key, cached for one transaction. Unknown or
another tenant's keys raise NotFound naming the input field."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Item, Location, Lot, Serial, Warehouse
from domain.allocation import LotStatus
from domain.errors import InvalidInput, NotFound
from domain.quantities import Rounding, UnitOfMeasure


def uom_of(item: Item) -> UnitOfMeasure:
    from decimal import Decimal

    base = Decimal(item.base_units_per_unit)
    return UnitOfMeasure(
        unit=item.uom_unit,
        base_units_per_unit=item.base_units_per_unit,
        min_increment=Decimal(item.min_increment_base) / base,
        min_cut=Decimal(item.min_cut_base) / base,
        rounding=Rounding(item.rounding),
    )


class Catalogue:
    def __init__(self, session: AsyncSession, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self._warehouses: dict[str, Warehouse] = {}
        self._locations: dict[tuple[int, str], Location] = {}
        self._items: dict[str, Item] = {}
        self._warehouse_codes: dict[int, str] = {}

    async def warehouse(
        self, code: str, field: str = "warehouse", *, active_only: bool = True
    ) -> Warehouse:
        if code not in self._warehouses:
            row = await self.session.scalar(
                select(Warehouse).where(
                    Warehouse.tenant_id == self.tenant_id, Warehouse.code == code
                )
            )
            if row is None:
                raise NotFound(f"warehouse {code!r} does not exist", field=field)
            self._warehouses[code] = row
            self._warehouse_codes[row.id] = code
        warehouse = self._warehouses[code]
        if active_only and not warehouse.active:
            raise InvalidInput(f"warehouse {code!r} is inactive", field=field)
        return warehouse

    async def location(self, warehouse: Warehouse, code: str, field: str = "location") -> Location:
        key = (warehouse.id, code)
        if key not in self._locations:
            row = await self.session.scalar(
                select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code)
            )
            if row is None:
                raise NotFound(
                    f"location {code!r} does not exist in warehouse {warehouse.code!r}",
                    field=field,
                )
            if not row.active:
                raise InvalidInput(f"location {code!r} is inactive", field=field)
            self._locations[key] = row
        return self._locations[key]

    async def item(self, sku: str, field: str = "sku") -> Item:
        if sku not in self._items:
            row = await self.session.scalar(
                select(Item).where(Item.tenant_id == self.tenant_id, Item.sku == sku)
            )
            if row is None:
                raise NotFound(f"item {sku!r} does not exist", field=field)
            self._items[sku] = row
        return self._items[sku]

    async def lot(self, item: Item, number: str | None, field: str = "lot") -> Lot | None:
        """The existing lot of a lot-tracked item (None for untracked items), or one
        the system gave an untracked item (returned units held aside: `RMA-...`)."""
        if number is not None and not item.track_lot:
            held = await self._find_lot(item, number)
            if held is not None:
                return held
        self.check_lot_given(item, number, field)
        if number is None:
            return None
        row = await self._find_lot(item, number)
        if row is None:
            raise NotFound(f"lot {number!r} of {item.sku!r} does not exist", field=field)
        return row

    def check_lot_given(self, item: Item, number: str | None, field: str) -> None:
        if item.track_lot and not number:
            raise InvalidInput(f"{item.sku!r} is lot-tracked: a lot is required", field=field)
        if not item.track_lot and number:
            raise InvalidInput(f"{item.sku!r} is not lot-tracked: no lot expected", field=field)

    async def receive_lot(
        self,
        item: Item,
        number: str | None,
        *,
        expires_on: date | None,
        manufactured_on: date | None,
        field: str,
        expiry_field: str = "expires_at",
    ) -> Lot | None:
        """The lot stock goes into: an existing one, or a new one (which needs an
        expiry date when the item tracks expiry). An untracked item only names a lot
        the system gave it (returned units held aside)."""
        if number is not None and not item.track_lot and expires_on is None:
            held = await self._find_lot(item, number)
            if held is not None:
                return held
        self.check_lot_given(item, number, field)
        if number is None:
            if expires_on is not None:
                raise InvalidInput(f"{item.sku!r} has no lots to expire", field=expiry_field)
            return None
        lot = await self._find_lot(item, number)
        if lot is None:
            if item.track_expiry and expires_on is None:
                raise InvalidInput(
                    f"{item.sku!r} tracks expiry: a new lot needs its expiry date",
                    field=expiry_field,
                )
            await self.session.execute(
                text(
                    "INSERT INTO lots (tenant_id, item_id, lot_number, manufactured_on, expires_on,"
                    " received_at, status) VALUES (:t, :i, :n, :m, :e, now(), :s)"
                    " ON CONFLICT (item_id, lot_number) DO NOTHING"
                ),
                {
                    "t": self.tenant_id,
                    "i": item.id,
                    "n": number,
                    "m": manufactured_on,
                    "e": expires_on,
                    "s": LotStatus.AVAILABLE.value,
                },
            )
            lot = await self._find_lot(item, number)
            assert lot is not None
        if expires_on is not None and lot.expires_on != expires_on:
            raise InvalidInput(
                f"lot {number!r} expires on {lot.expires_on}, not {expires_on}", field=expiry_field
            )
        return lot

    async def _find_lot(self, item: Item, number: str) -> Lot | None:
        lot: Lot | None = await self.session.scalar(
            select(Lot).where(Lot.item_id == item.id, Lot.lot_number == number)
        )
        return lot

    async def serials(
        self, item: Item, numbers: list[str], quantity: int, field: str, *, create: bool
    ) -> list[Serial]:
        if not item.track_serial:
            if numbers:
                raise InvalidInput(f"{item.sku!r} is not serial-tracked", field=field)
            return []
        if len(numbers) != quantity or len(set(numbers)) != len(numbers):
            raise InvalidInput(
                f"{item.sku!r} is serial-tracked: {quantity} distinct serials expected, "
                f"got {len(numbers)}",
                field=field,
            )
        if create:
            await self.session.execute(
                text(
                    "INSERT INTO serials (tenant_id, item_id, serial_number, received_at)"
                    " SELECT :t, :i, unnest(CAST(:n AS text[])), now()"
                    " ON CONFLICT (item_id, serial_number) DO NOTHING"
                ),
                {"t": self.tenant_id, "i": item.id, "n": numbers},
            )
        # Locked (in id order) so that two receipts of one serial run one after the
        # other and the second sees the first's stock.
        rows = list(
            await self.session.scalars(
                select(Serial)
                .where(Serial.item_id == item.id, Serial.serial_number.in_(numbers))
                .order_by(Serial.id)
                .with_for_update()
            )
        )
        missing = set(numbers) - {s.serial_number for s in rows}
        if missing:
            raise NotFound(f"unknown serials of {item.sku!r}: {sorted(missing)}", field=field)
        return rows

    async def warehouse_code(self, warehouse_id: int) -> str:
        if warehouse_id not in self._warehouse_codes:
            code = await self.session.scalar(
                select(Warehouse.code).where(Warehouse.id == warehouse_id)
            )
            self._warehouse_codes[warehouse_id] = str(code)
        return self._warehouse_codes[warehouse_id]


async def units_of(
    session: AsyncSession, tenant_id: int, skus: set[str]
) -> dict[str, UnitOfMeasure]:
    """Units of measure by SKU (unknown SKUs are simply absent)."""
    rows = await session.scalars(
        select(Item).where(Item.tenant_id == tenant_id, Item.sku.in_(skus))
    )
    return {item.sku: uom_of(item) for item in rows}
