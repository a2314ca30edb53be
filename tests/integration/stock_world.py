"""A small warehouse world for stock tests: one tenant, two warehouses with bins
and staging, and items of each kind. Every World is new, so tests never share stock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalogue import create_item, create_warehouse
from db.stock.on_hand import receive
from db.stock.operation import Caller
from db.stock.promising import allocate, reserve
from db.stock.reconcile import Violation, find_violations
from db.tenants import ensure_tenant
from domain.allocation import BackorderPolicy, Strategy
from domain.catalogue import ItemSpec, LocationSpec, LocationType, WarehouseSpec
from domain.quantities import Rounding, UnitOfMeasure
from domain.stock import (
    AllocateReservation,
    AllocationResult,
    ReceiptLine,
    ReceiveStock,
    ReservationRecord,
    ReserveLine,
    ReserveStock,
)

WAREHOUSES = {"WH1": 1, "WH2": 2}  # code: priority
LOCATIONS = {
    "A1": LocationType.BIN,
    "A2": LocationType.BIN,
    "B1": LocationType.BIN,
    "DOCK": LocationType.DOCK,
    "STAGE": LocationType.STAGING,
}
ITEMS = [
    ItemSpec("WIDGET", "Widget"),
    ItemSpec(
        "FABRIC",
        "Fabric by the yard",
        UnitOfMeasure("yd", 4, Decimal("0.25"), Decimal("1"), Rounding.UP),
    ),
    ItemSpec("MILK", "Milk", track_lot=True, track_expiry=True, default_strategy=Strategy.FEFO),
    ItemSpec("BOLT", "Bolt", track_lot=True, default_strategy=Strategy.LIFO),
    ItemSpec("PHONE", "Phone", track_serial=True),
    ItemSpec("GADGET", "Gadget", backorder_policy=BackorderPolicy.ALLOW),
    ItemSpec(
        "YOGURT",
        "Yogurt",
        track_lot=True,
        track_expiry=True,
        default_strategy=Strategy.FEFO,
        backorder_policy=BackorderPolicy.ALLOW,
    ),
]


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    tenant_id: int
    slug: str

    def caller(self, key: str | None = None) -> Caller:
        return Caller(self.tenant_id, key or uuid.uuid4().hex, "test")

    async def receive(
        self,
        sku: str,
        quantity: int,
        *,
        warehouse: str = "WH1",
        location: str = "A1",
        lot: str | None = None,
        expires_on: date | None = None,
        serials: list[str] | None = None,
    ) -> None:
        line = ReceiptLine(sku, quantity, lot, expires_on, serials=serials or [])
        await receive(self.sessions, self.caller(), ReceiveStock(warehouse, location, [line]))

    async def reserve(
        self,
        sku: str,
        quantity: int,
        *,
        warehouse: str = "WH1",
        lot: str | None = None,
        source_type: str = "order",
        source_id: str | None = None,
    ) -> ReservationRecord:
        command = ReserveStock([ReserveLine(warehouse, sku, quantity, lot)], source_type, source_id)
        return (await reserve(self.sessions, self.caller(), command)).reservations[0]

    async def allocate(self, reservation_id: int, quantity: int | None = None) -> AllocationResult:
        command = AllocateReservation(reservation_id, quantity)
        return await allocate(self.sessions, self.caller(), command)

    async def level(self, sku: str, warehouse: str = "WH1") -> dict[str, int]:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT s.on_hand, s.reserved, s.allocated, s.in_transit, s.incoming"
                        " FROM stock_levels s JOIN items i ON i.id = s.item_id"
                        " JOIN warehouses w ON w.id = s.warehouse_id"
                        " WHERE i.tenant_id = :t AND i.sku = :sku AND w.code = :w"
                    ),
                    {"t": self.tenant_id, "sku": sku, "w": warehouse},
                )
            ).first()
        names = ("on_hand", "reserved", "allocated", "in_transit", "incoming")
        return dict(zip(names, row or (0, 0, 0, 0, 0), strict=True))

    async def held(self, sku: str, warehouse: str = "WH1") -> int:
        """On hand in lots on hold or in quarantine (never promised)."""
        async with self.sessions() as session:
            value = await session.scalar(
                text(
                    "SELECT s.held FROM stock_levels s JOIN items i ON i.id = s.item_id"
                    " JOIN warehouses w ON w.id = s.warehouse_id"
                    " WHERE i.tenant_id = :t AND i.sku = :sku AND w.code = :w"
                ),
                {"t": self.tenant_id, "sku": sku, "w": warehouse},
            )
        return int(value or 0)

    async def balance(self, sku: str, location: str, warehouse: str = "WH1") -> tuple[int, int]:
        """(on_hand, allocated) summed over lots at one location."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT coalesce(sum(b.on_hand), 0), coalesce(sum(b.allocated), 0)"
                        " FROM balances b JOIN items i ON i.id = b.item_id"
                        " JOIN locations l ON l.id = b.location_id"
                        " JOIN warehouses w ON w.id = b.warehouse_id"
                        " WHERE i.tenant_id = :t AND i.sku = :sku AND l.code = :l AND w.code = :w"
                    ),
                    {"t": self.tenant_id, "sku": sku, "l": location, "w": warehouse},
                )
            ).one()
        return int(row[0]), int(row[1])

    async def ledger_size(self) -> int:
        async with self.sessions() as session:
            count = await session.scalar(
                text("SELECT count(*) FROM movements WHERE tenant_id = :t"), {"t": self.tenant_id}
            )
        return int(count or 0)

    async def set_order_status(self, order_number: str, status: str) -> None:
        """The order's projected status, as its run would write it."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE orders SET status = :s WHERE tenant_id = :t AND order_number = :n"),
                {"s": status, "t": self.tenant_id, "n": order_number},
            )

    async def violations(self) -> list[Violation]:
        async with self.sessions() as session, session.begin():
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            return await find_violations(session, self.tenant_id)


async def make_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    slug = f"w-{uuid.uuid4().hex[:10]}"
    async with sessions() as session, session.begin():
        tenant = await ensure_tenant(session, slug)
        for code, priority in WAREHOUSES.items():
            locations = [LocationSpec(code, loc, kind) for loc, kind in LOCATIONS.items()]
            spec = WarehouseSpec(code, code, priority)
            await create_warehouse(session, tenant.id, spec, locations)
        for item in ITEMS:
            await create_item(session, tenant.id, item)
    return World(sessions, tenant.id, slug)
