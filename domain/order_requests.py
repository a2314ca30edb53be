"""An order's warehouse side: its fulfillment requests (one per warehouse and
allocation round), their allocations, packages and shipments, and the checks of the
warehouse's steps (accept, pick, pack, ship). The base of domain.order_book.OrderBook.

Pure and deterministic: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.orders import (
    AllocationView,
    HoldView,
    KeyedIds,
    OrderInput,
    PackInput,
    PickInput,
    PickOne,
    PickStockInput,
    PickStockResult,
    RequestLineView,
    RequestView,
    ShipInput,
    ShipmentView,
    ShortPickInput,
)
from contracts.shipping import packed, shipment_tracking, with_tracking
from domain.errors import Amounts, InvalidInput
from domain.orders import (
    AllocationStatus,
    Bucket,
    HoldBlocks,
    LineBook,
    OrderStatus,
    RequestStatus,
)
from domain.stock import InvalidTransition

# How an order ends without shipping what is left; each says why (cancel_reason).
ENDED_UNSHIPPED = (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


class Step(StrEnum):
    """A step someone asks of an order (an update)."""

    ACCEPT = "accept"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    CANCEL = "cancel"


class NotYet(InvalidTransition):
    """A step that comes early: what enables it is still under way."""

    code = "step-not-yet-possible"


class OnHold(InvalidTransition):
    """A step an active hold stops."""

    code = "on-hold"


@dataclass(frozen=True, kw_only=True)
class PickPlan:
    """Where a pick confirmation's quantities come from, and what it left short."""

    request_id: str
    stock: PickStockInput  # allocated stock to move to staging
    shorts: list[ShortPickInput]  # one per allocation not (fully) found


@dataclass
class WarehouseBook:
    order: OrderInput
    workflow_id: str
    books: dict[str, LineBook] = field(default_factory=dict)
    requests: dict[str, RequestView] = field(default_factory=dict)
    origins: dict[int, str] = field(default_factory=dict)  # picked allocation: source
    staging: dict[str, str] = field(default_factory=dict)  # warehouse: staging location
    shipments: list[ShipmentView] = field(default_factory=list)
    holds: list[HoldView] = field(default_factory=list)
    status: OrderStatus = OrderStatus.RECEIVED
    cancel_reason: str | None = None
    cancel_asked: str | None = None  # the shop's reason, once it asked to cancel
    closing: bool = False  # compensation has begun: no step may start now
    version: int = 0
    underway: dict[str, Step] = field(default_factory=dict)  # request: its step running

    # -- reading -----------------------------------------------------------------

    def sku(self, line_id: str) -> str:
        return next(line.sku for line in self.order.lines if line.line_id == line_id)

    @property
    def active_holds(self) -> list[HoldView]:
        return [hold for hold in self.holds if hold.active]

    def request(self, request_id: str) -> RequestView:
        if request_id not in self.requests:
            raise InvalidTransition(f"no fulfillment request {request_id!r} in this order")
        return self.requests[request_id]

    def allocations(
        self, request: RequestView, status: AllocationStatus, line_id: str | None = None
    ) -> list[AllocationView]:
        """The request's allocations in `status` that still hold stock (of one line)."""
        return [
            a
            for a in request.allocations
            if a.status is status and a.quantity > 0 and line_id in (None, a.line_id)
        ]

    def open_allocations(self, status: AllocationStatus) -> list[AllocationView]:
        return [a for r in self.requests.values() for a in self.allocations(r, status)]

    def any_accepted(self) -> bool:
        return any(r.status is RequestStatus.ACCEPTED for r in self.requests.values())

    def requests_done(self) -> bool:
        return all(r.status.is_final for r in self.requests.values())

    @staticmethod
    def _line(request: RequestView, line_id: str) -> RequestLineView:
        return next(x for x in request.lines if x.line_id == line_id)

    # -- the guards every step passes ------------------------------------------------

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def check_open(self) -> None:
        """No step once the order is closing, closed, or asked to cancel."""
        if self.cancel_asked is not None or self.closing or self.status.is_final:
            raise InvalidTransition(f"order {self.order.order_number} is {self.status}")

    def check_still_open(self, step: Step) -> None:
        """A stock step admitted before compensation began, or before a hold was
        placed while it waited for the order's lock, must not act after it."""
        if self.closing:
            raise InvalidTransition(f"order {self.order.order_number} is {self.status}")
        self.check_not_held(step)

    def check_not_held(self, step: Step) -> None:
        """Refuses `step` while an active hold stops it, naming the hold."""
        for hold in self.active_holds:
            if step is not Step.CANCEL or hold.blocks is HoldBlocks.ALL:
                raise OnHold(
                    f"order {self.order.order_number} is on hold ({hold.code}, hold {hold.id}"
                    f": {hold.reason}); release the hold first"
                )

    def _open_request(self, request_id: str, step: Step, needs: RequestStatus) -> RequestView:
        """The request `step` applies to, if the order and the request allow it now."""
        self.check_open()
        self.check_not_held(step)
        if request_id not in self.requests and self._may_still_come(request_id):
            raise NotYet(
                f"request {request_id} does not exist yet: order {self.order.order_number}"
                " is still reserving or allocating"
            )
        request = self.request(request_id)
        if request_id in self.underway:
            raise NotYet(f"request {request_id} is still in its {self.underway[request_id]} step")
        if request.status is not needs:
            first = {
                RequestStatus.ACCEPTED: "accept",
                RequestStatus.PICKED: "pick",
                RequestStatus.PACKED: "pack",
            }
            raise InvalidTransition(
                f"request {request.id} is {request.status}"
                + (f"; {first[needs]} it first" if needs in first else f", not {needs}")
            )
        return request

    def _may_still_come(self, request_id: str) -> bool:
        """An id this order would give a request it has not made yet, while it still
        has quantity to reserve or allocate."""
        prefix, _, number = request_id.rpartition("-")
        return (
            prefix.startswith(f"{self.order.order_number}-")
            and number.isdigit()
            and int(number) > len(self.requests)
            and (self.total(Bucket.PENDING) + self.total(Bucket.RESERVED)) > 0
        )

    def total(self, bucket: Bucket) -> int:
        return sum(b.get(bucket) for b in self.books.values())

    @contextmanager
    def step_underway(self, request_id: str, step: Step) -> Iterator[None]:
        """While a request's step runs (its stock moves), the next step waits."""
        self.underway[request_id] = step
        try:
            yield
        finally:
            self.underway.pop(request_id, None)

    # -- requests ------------------------------------------------------------------

    def new_request(self, warehouse: str) -> RequestView:
        number = len(self.requests) + 1
        request = RequestView(
            id=f"{self.order.order_number}-{warehouse}-{number}",
            warehouse=warehouse,
            status=RequestStatus.REQUESTED,
            lines=[],
            allocations=[],
        )
        self.requests[request.id] = request
        return request

    def add_to_request(self, request: RequestView, allocation: AllocationView) -> None:
        request.allocations.append(allocation)
        line = next((x for x in request.lines if x.line_id == allocation.line_id), None)
        if line is None:
            line = RequestLineView(
                line_id=allocation.line_id, sku=self.sku(allocation.line_id), quantity=0
            )
            request.lines.append(line)
        line.quantity += allocation.quantity

    # -- accept ----------------------------------------------------------------------

    def check_accept(self, request_id: str) -> None:
        self._open_request(request_id, Step.ACCEPT, RequestStatus.REQUESTED)

    def accepted(self, request_id: str) -> None:
        self.request(request_id).status = RequestStatus.ACCEPTED

    # -- pick ------------------------------------------------------------------------

    def check_pick(self, data: PickInput) -> None:
        request = self._open_request(data.request_id, Step.PICK, RequestStatus.ACCEPTED)
        totals: dict[str, int] = {}
        for n, line in enumerate(data.lines):
            candidates = self._candidates(request, line.line_id, line.lot, line.location)
            if line.line_id not in {x.line_id for x in request.lines}:
                raise InvalidTransition(f"lines.{n}: line {line.line_id!r} is not in {request.id}")
            allocated = sum(a.quantity for a in candidates)
            if not 0 <= line.quantity <= allocated:
                q, sku = Amounts(), self.sku(line.line_id)
                raise InvalidTransition(
                    f"lines.{n}: {q(sku, line.quantity)} picked, but {q(sku, allocated)} allocated"
                    + (f" in lot {line.lot}" if line.lot else "")
                    + (f" at {line.location}" if line.location else ""),
                    amounts=q,
                )
            if line.serials and (
                len(line.serials) != line.quantity
                or set(line.serials) - {a.serial for a in candidates}
            ):
                raise InvalidTransition(f"lines.{n}: serials do not match the allocation")
            totals[line.line_id] = totals.get(line.line_id, 0) + line.quantity
        for line_id, total in totals.items():
            allocated = sum(a.quantity for a in self._candidates(request, line_id, None, None))
            if total > allocated:
                q, sku = Amounts(), self.sku(line_id)
                raise InvalidTransition(
                    f"line {line_id!r}: {q(sku, total)} picked, {q(sku, allocated)} allocated",
                    amounts=q,
                )

    def _candidates(
        self, request: RequestView, line_id: str, lot: str | None, location: str | None
    ) -> list[AllocationView]:
        """The allocations a confirmed pick line may come from: the pick filter."""
        return [
            a
            for a in self.allocations(request, AllocationStatus.ALLOCATED, line_id)
            if (not lot or a.lot == lot) and (not location or a.location == location)
        ]

    def plan_pick(self, data: PickInput) -> PickPlan:
        """Which allocations the confirmed quantities come from (several entries of a
        line may name lots, locations or serials); one confirmation covers the whole
        request: what was not picked is short."""
        request = self.request(data.request_id)
        taken: dict[int, int] = {}
        for line in data.lines:
            remaining, serials = line.quantity, set(line.serials)
            for a in self._candidates(request, line.line_id, line.lot, line.location):
                if serials and a.serial not in serials:
                    continue
                take = min(a.quantity - taken.get(a.allocation_id, 0), remaining)
                if take > 0:
                    taken[a.allocation_id] = taken.get(a.allocation_id, 0) + take
                    remaining -= take
        staging = self.staging[request.warehouse]
        # One key per request: a retried confirmation replays, never picks twice.
        key = f"{self.workflow_id}/pick/{request.id}"
        stock = PickStockInput(
            tenant_id=self.order.tenant_id,
            key=key,
            actor=data.actor,
            picks=[
                PickOne(allocation_id=aid, quantity=quantity, to_location=staging)
                for aid, quantity in taken.items()
            ],
        )
        shorts = [
            ShortPickInput(
                tenant_id=self.order.tenant_id,
                key=f"{key}/short",
                allocation_id=a.allocation_id,
                reservation_id=a.reservation_id,
                quantity=a.quantity - taken.get(a.allocation_id, 0),
                warehouse=request.warehouse,
                location=a.location,
                sku=self.sku(a.line_id),
                lot=a.lot,
                reason=f"short pick on {request.id}: "
                f"{a.quantity - taken.get(a.allocation_id, 0)} not found",
                serials=[a.serial] if a.serial else [],
                actor=data.actor,
            )
            for a in self.allocations(request, AllocationStatus.ALLOCATED)
            if a.quantity > taken.get(a.allocation_id, 0)
        ]
        return PickPlan(request_id=request.id, stock=stock, shorts=shorts)

    def picked(self, plan: PickPlan, result: PickStockResult) -> None:
        """The found stock is at staging, on new allocations (picked)."""
        request = self.request(plan.request_id)
        for pick in plan.stock.picks:
            source = next(a for a in request.allocations if a.allocation_id == pick.allocation_id)
            source.quantity -= pick.quantity
            picked = AllocationView(
                allocation_id=result.picked[pick.allocation_id],
                reservation_id=source.reservation_id,
                line_id=source.line_id,
                location=pick.to_location,
                lot=source.lot,
                serial=source.serial,
                quantity=pick.quantity,
                status=AllocationStatus.PICKED,
            )
            self.origins[picked.allocation_id] = source.location
            request.allocations.append(picked)
            self.books[source.line_id].move(Bucket.ALLOCATED, Bucket.PICKED, pick.quantity)
            self._line(request, source.line_id).picked += pick.quantity

    def short_picked(self, plan: PickPlan, short: ShortPickInput) -> None:
        """What was not found is off the books; the order asks for it again."""
        request = self.request(plan.request_id)
        a = next(a for a in request.allocations if a.allocation_id == short.allocation_id)
        a.quantity -= short.quantity
        self.books[a.line_id].move(Bucket.ALLOCATED, Bucket.PENDING, short.quantity)
        self._line(request, a.line_id).quantity -= short.quantity

    def pick_done(self, plan: PickPlan) -> None:
        # Nothing found at all: the request has nothing left to pack or ship.
        found = bool(plan.stock.picks)
        self.request(plan.request_id).status = (
            RequestStatus.PICKED if found else RequestStatus.CANCELED
        )

    # -- pack ------------------------------------------------------------------------

    def check_pack(self, data: PackInput) -> None:
        request = self._open_request(data.request_id, Step.PACK, RequestStatus.PICKED)
        numbers = [p.package_number for p in data.packages]
        if not numbers or len(set(numbers)) != len(numbers):
            raise InvalidTransition("packages need distinct package numbers")
        packed: dict[str, int] = {}
        for package in data.packages:
            for line in package.lines:
                if line.quantity <= 0:
                    raise InvalidTransition(
                        f"package {package.package_number}: quantities must be positive"
                    )
                packed[line.line_id] = packed.get(line.line_id, 0) + line.quantity
        picked = {x.line_id: x.picked for x in request.lines if x.picked}
        if packed != picked:
            raise self._pack_mismatch(picked, packed)

    def _pack_mismatch(self, picked: dict[str, int], packed: dict[str, int]) -> InvalidTransition:
        """Packages that do not hold exactly what was picked: line by line, how much."""
        q, skus = Amounts(), {line.line_id: line.sku for line in self.order.lines}
        lines = "; ".join(
            f"line {line_id!r} {q(skus.get(line_id, ''), picked.get(line_id, 0))} picked, "
            f"{q(skus.get(line_id, ''), packed.get(line_id, 0))} packed"
            for line_id in sorted(picked.keys() | packed.keys())
            if picked.get(line_id, 0) != packed.get(line_id, 0)
        )
        return InvalidTransition(f"packages must hold exactly what was picked: {lines}", amounts=q)

    def packed(self, data: PackInput) -> None:
        request = self.request(data.request_id)
        for package in data.packages:
            for line in package.lines:
                self.books[line.line_id].move(Bucket.PICKED, Bucket.PACKED, line.quantity)
                self._line(request, line.line_id).packed += line.quantity
            request.packages.append(packed(package))
        request.status = RequestStatus.PACKED

    # -- ship ------------------------------------------------------------------------

    def check_ship(self, data: ShipInput) -> None:
        request = self._open_request(data.request_id, Step.SHIP, RequestStatus.PACKED)
        if not data.carrier.strip():
            raise InvalidTransition("a carrier is required")
        known = {p.package_number for p in request.packages}
        unknown = {t.package_number for t in data.packages} - known
        if unknown:
            raise InvalidInput(f"request {request.id} has no package {sorted(unknown)}")

    def to_ship(self, data: ShipInput) -> KeyedIds:
        """The staged allocations of a request, to consume as it leaves."""
        request = self.request(data.request_id)
        return KeyedIds(
            tenant_id=self.order.tenant_id,
            key=f"{self.workflow_id}/ship/{request.id}",
            ids=[a.allocation_id for a in self.allocations(request, AllocationStatus.PICKED)],
            actor=data.actor,
        )

    def shipped(self, data: ShipInput, shipped_at: str) -> None:
        request = self.request(data.request_id)
        for a in self.allocations(request, AllocationStatus.PICKED):
            self.books[a.line_id].move(Bucket.PACKED, Bucket.SHIPPED, a.quantity)
            self._line(request, a.line_id).shipped += a.quantity
            a.status = AllocationStatus.SHIPPED
        request.status = RequestStatus.SHIPPED
        request.packages = with_tracking(request.packages, data.packages)
        self.shipments.append(
            ShipmentView(
                request_id=request.id,
                carrier=data.carrier,
                service_level=data.service_level,
                tracking_numbers=shipment_tracking(request.packages, data.tracking_numbers),
                packages=list(request.packages),
                shipped_at=shipped_at,
            )
        )
