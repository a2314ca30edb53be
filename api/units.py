"""Display <-> base unit conversion for the SKUs of one request, and the
conversion of stock results and shortages back to display units."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.problems import Problem
from api.schemas.inventory import (
    AllocationPublic,
    AllocationResultPublic,
    MovementPublic,
    ReservationPublic,
    ShortagePublic,
)
from db.stock.lookups import units_of
from domain.errors import NotFound, QuantityFormat
from domain.quantities import UnitOfMeasure
from domain.stock import (
    AllocationRecord,
    AllocationResult,
    InsufficientStock,
    MovementRecord,
    ReservationRecord,
    describe_shortages,
)

log = logging.getLogger(__name__)


class _KnownUnits:
    """Units of measure already read, per (tenant, SKU); unknown SKUs are not
    remembered. Bounded: oldest entries go first. An item's unit changes only while it
    has no stock and no open demand (PATCH /v1/items): that change forgets the entry
    here at once and, by its NOTIFY at commit, in every other API process."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._known: OrderedDict[tuple[int, str], UnitOfMeasure] = OrderedDict()

    def split(self, tenant_id: int, skus: set[str]) -> tuple[dict[str, UnitOfMeasure], set[str]]:
        found = {s: self._known[(tenant_id, s)] for s in skus if (tenant_id, s) in self._known}
        return found, skus - found.keys()

    def forget(self, tenant_id: int, sku: str) -> None:
        self._known.pop((tenant_id, sku), None)

    def remember(self, tenant_id: int, uoms: dict[str, UnitOfMeasure]) -> None:
        for sku, uom in uoms.items():
            self._known[(tenant_id, sku)] = uom
        while len(self._known) > self._size:
            self._known.popitem(last=False)


_KNOWN = _KnownUnits()


def forget_units(notice: str) -> None:
    """Forget the unit of an item whose unit changed (`<tenant id>:<sku>`, the
    payload of db.items.UNITS_CHANNEL)."""
    tenant, _, sku = notice.partition(":")
    if tenant.isdigit():
        _KNOWN.forget(int(tenant), sku)


class Units:
    def __init__(self, uoms: dict[str, UnitOfMeasure]) -> None:
        self.uoms = uoms

    @classmethod
    async def load(
        cls, sessions: async_sessionmaker[AsyncSession], tenant_id: int, skus: Iterable[str]
    ) -> Units:
        wanted = set(skus)
        found, missing = _KNOWN.split(tenant_id, wanted)
        if not missing:  # no database round trip at all
            return cls(found)
        async with sessions() as session:
            return await cls.load_with(session, tenant_id, wanted)

    @classmethod
    async def load_with(cls, session: AsyncSession, tenant_id: int, skus: Iterable[str]) -> Units:
        found, missing = _KNOWN.split(tenant_id, set(skus))
        if missing:
            read = await units_of(session, tenant_id, missing)
            _KNOWN.remember(tenant_id, read)
            found |= read
        return cls(found)

    def of(self, sku: str, field: str = "sku") -> UnitOfMeasure:
        if sku not in self.uoms:
            raise NotFound(f"item {sku!r} does not exist", field=field)
        return self.uoms[sku]

    def stock(self, sku: str, quantity: Decimal, field: str, sku_field: str = "sku") -> int:
        """An exact stock quantity (receipts, moves, counts)."""
        return self.of(sku, sku_field).to_base(quantity, field=field)

    def demand(self, sku: str, quantity: Decimal, field: str, sku_field: str = "sku") -> int:
        """A demanded quantity, rounded by the item's mode (reservations, orders)."""
        return self.of(sku, sku_field).demand_to_base(quantity, field=field)

    def format(self, sku: str, base: int) -> str:
        return f"{self.display(sku, base)} {self.of(sku).unit}"

    def display(self, sku: str, base: int) -> Decimal:
        return self.of(sku).to_display(base)

    def movement(self, m: MovementRecord) -> MovementPublic:
        return MovementPublic(
            id=m.id,
            type=m.type,
            sku=m.sku,
            quantity=self.display(m.sku, m.quantity),
            from_location=m.from_location,
            to_location=m.to_location,
            lot=m.lot,
            serial=m.serial,
        )

    def reservation(self, r: ReservationRecord) -> ReservationPublic:
        return ReservationPublic(
            id=r.id,
            warehouse=r.warehouse,
            sku=r.sku,
            lot=r.lot,
            requested=self.display(r.sku, r.requested),
            quantity=self.display(r.sku, r.quantity),
            status=r.status,
        )

    def allocation(self, a: AllocationRecord) -> AllocationPublic:
        return AllocationPublic(
            id=a.id,
            reservation_id=a.reservation_id,
            warehouse=a.warehouse,
            location=a.location,
            sku=a.sku,
            lot=a.lot,
            serial=a.serial,
            quantity=self.display(a.sku, a.quantity),
            status=a.status,
        )

    def allocation_result(self, result: AllocationResult, sku: str) -> AllocationResultPublic:
        return AllocationResultPublic(
            reservation=self.reservation(result.reservation) if result.reservation else None,
            allocations=[self.allocation(a) for a in result.allocations],
            shortfall=self.display(sku, result.shortfall),
        )

    @asynccontextmanager
    async def shortages_as_problem(self) -> AsyncIterator[None]:
        """InsufficientStock -> 409 problem listing every short line in display units."""
        try:
            yield
        except InsufficientStock as short:
            shortages = [
                ShortagePublic(
                    line=s.line,
                    sku=s.sku,
                    warehouse=s.warehouse,
                    location=s.location,
                    lot=s.lot,
                    requested=self.display(s.sku, s.requested),
                    available=self.display(s.sku, s.available),
                ).model_dump(mode="json")
                for s in short.shortages
            ]
            raise Problem(
                409,
                short.code,
                describe_shortages(short.shortages, self.format),
                field=short.field,
                extensions={"shortages": shortages},
            ) from short


async def quantities_of(request: Request, skus: set[str]) -> QuantityFormat | None:
    """How an error's quantities read for this request's tenant: in each item's display
    unit, with the unit ("1.5 yd"); a SKU it does not know stays in base units. None
    before the caller is known, or when the units cannot be read now."""
    tenant_id = getattr(request.state, "tenant_id", None)
    if tenant_id is None:
        return None
    try:
        units = await Units.load(request.app.state.resources.sessions, tenant_id, skus)
    except SQLAlchemyError:
        log.warning("could not read units to word an error", exc_info=True)
        return None

    def say(sku: str, base: int) -> str:
        return units.format(sku, base) if sku in units.uoms else str(base)

    return say
