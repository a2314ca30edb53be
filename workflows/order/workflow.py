"""OrderWorkflow: an order's whole life, from receipt to shipment (DESIGN §6).

record → wait while held → reserve → (payment window) → allocate → fulfillment
requests per warehouse → the warehouse accepts, picks, packs and ships through
updates → shipped. Backordered quantity waits for stock; cancel compensates."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities
    from contracts.orders import (
        AllocateResult,
        AllocationView,
        AuthorizePaymentInput,
        CancelInput,
        ExtendReservationInput,
        ExtendReservationResult,
        HoldInput,
        HoldView,
        KeyedIds,
        LineNeed,
        OrderInput,
        OrderView,
        PackInput,
        PickInput,
        PickOne,
        PickStockInput,
        PutBackInput,
        PutBackOne,
        RecordOrderInput,
        ReleaseHoldInput,
        RequestInput,
        RequestView,
        ReserveLinesInput,
        ReserveLinesResult,
        ShipInput,
        ShipmentView,
        ShortPickInput,
        StockArrivedInput,
    )
    from contracts.shipping import packed, shipment_tracking, with_tracking
    from domain.orders import Bucket, OrderStatus, PaymentStatus
    from workflows import retry_policies, search_attributes
    from workflows.order.book import OrderBook, Reservation
    from workflows.refusals import refuse, step_failed

MAX_EXTENSION = 7 * 24 * 3600
DEFAULT_TTL = 900  # seconds an unpaid order holds its stock when none is given
RETRY_BACKORDERS = timedelta(hours=1)


# Runs started before this patch upserted every search attribute at every publish.
UPSERT_ON_CHANGE = "search-attributes-on-change"
# Runs started before this patch recorded the order and wrote the projection with
# (remote) activities; now they are local activities: no task queue round trip.
# It is the first thing a new run asks, and such runs upsert on change without
# asking UPSERT_ON_CHANGE: a patch first asked right after a local activity breaks
# replay when the worker split that workflow task (the patch marker lands in a
# later task than the one that resolves the local activity).
LOCAL_PROJECTION = "projection-in-local-activities"
# Runs started before this patch failed when the database refused to record the
# order, and stopped on a projection the database refused; now the first rejects
# the order with its reason and the second is logged (an alert names it) while the
# order goes on. Asked at the run's start, with LOCAL_PROJECTION, for that reason.
REJECT_UNRECORDABLE = "reject-unrecordable-orders"

PAYMENT_EXPIRED = "payment was not authorized before the reservation expired"


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.book = OrderBook.open(order, workflow.info().workflow_id)
        self.order = order
        self.lock = asyncio.Lock()  # stock steps of updates and of run() never interleave
        self.cancel_requested = False
        self.closing = False  # compensation has begun: no update may start now
        self.shipping = False  # a ship update is moving stock out
        self.restocked = False
        self.staging: dict[str, str] = {}
        self.deadline: datetime | None = None
        self.cancel_asked = ""  # the shop's reason, given with its cancel
        self.rejects_unrecordable = False
        self.unrecorded = False  # the database refused the order: nothing to project

    # -- the story ---------------------------------------------------------------

    @workflow.run
    async def run(self, order: OrderInput) -> OrderView:
        self.rejects_unrecordable = self._local_projection() and workflow.patched(
            REJECT_UNRECORDABLE
        )
        if await self._record():
            self._upsert_search_attributes()
            try:
                await self._fulfil()
            except ActivityError as error:
                # A step refused for good (a business rule, a value the database
                # refuses): undo what was done.
                workflow.logger.warning("order %s refused: %s", order.order_number, error.cause)
                await self._compensate(OrderStatus.REJECTED, step_failed(error))
        if self.cancel_requested and not self.closing:
            await self._compensate(OrderStatus.CANCELED, self.cancel_asked)
        self.book.settle_status()
        await self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.book.view()

    async def _record(self) -> bool:
        """The order's rows as received; False when the database refused them: the
        order is rejected with the reason (no stock was touched, no row holds it)."""
        try:
            await self._project(
                OrderActivities.record_order,
                RecordOrderInput(order=self.order, workflow_id=self.book.workflow_id),
            )
        except (ActivityError, ApplicationError) as error:  # (local: ApplicationError)
            if not self.rejects_unrecordable:
                raise
            workflow.logger.warning("order %s not recorded: %s", self.order.order_number, error)
            self.unrecorded = self.closing = True
            self.book.close(OrderStatus.REJECTED, reason=step_failed(error, "record_order"))
            return False
        return True

    async def _fulfil(self) -> None:
        """Reserve, (wait for payment), allocate, let the warehouse work; again for
        whatever a short pick or a shortage handed back, until nothing is open."""
        while not self.cancel_requested:
            if not await self._unheld():
                return
            await self._reserve_pending()
            if self.closing:
                return  # rejected
            if self.book.wants_complete() and self.book.total(Bucket.BACKORDERED):
                if not await self._wait_for_stock():
                    return
                continue
            if self.book.payment is PaymentStatus.PENDING and not await self._payment_window():
                return
            if not await self._unheld():
                return
            await self._allocate()
            await workflow.wait_condition(
                lambda: (
                    self.cancel_requested
                    or self.book.requests_done()
                    or self.book.total(Bucket.PENDING) > 0
                )
            )
            if self.book.total(Bucket.PENDING):
                continue  # a short pick gave quantity back: reserve it again
            if self.book.total(Bucket.BACKORDERED):
                if not await self._wait_for_stock():
                    return
                continue
            return

    async def _unheld(self) -> bool:
        """Wait while a hold is active; False if the order was canceled meanwhile."""
        if self.book.active_holds:
            await self._publish()
            await workflow.wait_condition(
                lambda: self.cancel_requested or not self.book.active_holds
            )
        return not self.cancel_requested

    async def _reserve_pending(self) -> None:
        needs = [
            LineNeed(
                line_id=line.line_id, sku=line.sku, quantity=self.book.books[line.line_id].pending
            )
            for line in self.order.lines
            if self.book.books[line.line_id].pending > 0
        ]
        if not needs:
            return
        self.restocked = False  # stock arriving from now on wakes the next wait
        async with self.lock:
            result: ReserveLinesResult = await self._act(
                OrderActivities.reserve_lines,
                ReserveLinesInput(
                    tenant_id=self.order.tenant_id,
                    key=self._key("reserve"),
                    order_number=self.order.order_number,
                    lines=needs,
                    preferred_warehouse=self.order.preferred_warehouse,
                    allow_split=self.order.allow_split,
                ),
            )
            refused: list[str] = []
            for line in result.lines:
                books = self.book.books[line.line_id]
                for part in line.parts:
                    books.move(Bucket.PENDING, Bucket.RESERVED, part.quantity)
                    self.book.reservations[part.reservation_id] = Reservation(
                        line.line_id, part.warehouse, part.quantity
                    )
                books.move(Bucket.PENDING, Bucket.BACKORDERED, line.may_wait)
                books.move(Bucket.PENDING, Bucket.CANCELED, line.short - line.may_wait)
                if line.short > line.may_wait:
                    refused.append(
                        f"{line.line_id} ({self.book.sku(line.line_id)}) short "
                        f"{line.short - line.may_wait}"
                    )
        if self.book.total(Bucket.RESERVED):
            self._start_payment_clock()
        nothing_left = not any(
            b.open or b.backordered or b.shipped for b in self.book.books.values()
        )
        if nothing_left or (refused and self.book.wants_complete()):
            policy = self.order.fulfillment_policy.value
            await self._compensate(
                OrderStatus.REJECTED,
                f"not enough stock ({policy}) and the item may not be backordered: "
                + (", ".join(refused) or "nothing left to fulfil"),
            )
        else:
            self.book.settle_status()
            await self._publish()

    async def _payment_window(self) -> bool:
        """Hold the stock until payment is authorized; False when the reservation
        expired (stock released) or the order was canceled."""
        self._start_payment_clock()
        self.book.status = OrderStatus.PENDING_PAYMENT
        await self._publish()
        while self.book.payment is PaymentStatus.PENDING and not self.cancel_requested:
            assert self.deadline is not None
            remaining = (self.deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                await self._compensate(OrderStatus.EXPIRED, PAYMENT_EXPIRED)
                return False
            try:
                await workflow.wait_condition(
                    self._payment_settled(self.deadline), timeout=timedelta(seconds=remaining)
                )
            except TimeoutError:
                continue
        return not self.cancel_requested

    def _payment_settled(self, deadline: datetime) -> Any:
        """Payment authorized, order canceled, or the deadline moved (extension)."""
        return lambda: (
            self.book.payment is not PaymentStatus.PENDING
            or self.cancel_requested
            or self.deadline != deadline
        )

    async def _allocate(self) -> None:
        ready = self.book.lines_ready_to_ship()
        open_reservations = [
            rid for rid, r in self.book.reservations.items() if r.open > 0 and r.line_id in ready
        ]
        if not open_reservations:
            return
        async with self.lock:
            result: AllocateResult = await self._act(
                OrderActivities.allocate_reservations,
                KeyedIds(
                    tenant_id=self.order.tenant_id, key=self._key("allocate"), ids=open_reservations
                ),
            )
            requests: dict[str, Any] = {}
            for a in result.allocations:
                reservation = self.book.reservations[a.reservation_id]
                reservation.open -= a.quantity
                self.book.books[reservation.line_id].move(
                    Bucket.RESERVED, Bucket.ALLOCATED, a.quantity
                )
                if a.warehouse not in requests:
                    requests[a.warehouse] = self.book.new_request(a.warehouse)
                allocation = AllocationView(
                    allocation_id=a.allocation_id,
                    reservation_id=a.reservation_id,
                    line_id=reservation.line_id,
                    location=a.location,
                    lot=a.lot,
                    serial=a.serial,
                    quantity=a.quantity,
                    status="allocated",
                )
                self.book.add_to_request(requests[a.warehouse], allocation)
            self.staging.update(result.staging)
            if result.shortfall:
                await self._give_back_shortfall(result.shortfall)
        # The warehouse's queue (the projection) gets the new requests before the
        # order reads as allocated, so a client that saw `allocated` can act on them.
        await self._publish()
        self.book.settle_status()
        await self._publish()

    async def _give_back_shortfall(self, shortfall: dict[int, int]) -> None:
        """Reserved stock no pickable place holds (on a dock, a held lot): stop
        holding it and wait for stock like any backorder."""
        await self._act(
            OrderActivities.release_reservations,
            KeyedIds(
                tenant_id=self.order.tenant_id,
                key=self._key("release-shortfall"),
                ids=sorted(shortfall),
            ),
        )
        for reservation_id, quantity in sorted(shortfall.items()):
            reservation = self.book.reservations[reservation_id]
            reservation.open -= quantity
            self.book.books[reservation.line_id].move(Bucket.RESERVED, Bucket.BACKORDERED, quantity)

    async def _wait_for_stock(self) -> bool:
        """Backordered lines wait for a stock_arrived signal, then try again. An
        unpaid order's deadline still runs: False when it expired meanwhile."""
        self.book.settle_status()
        await self._publish()
        timeout = RETRY_BACKORDERS  # a missed signal costs an hour at most
        if self.deadline is not None and self.book.payment is PaymentStatus.PENDING:
            timeout = min(timeout, self.deadline - workflow.now())
        if timeout > timedelta(0):  # (a zero timeout would mean: no timeout at all)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.restocked or self.cancel_requested, timeout=timeout
                )
        if self._payment_overdue():
            await self._compensate(OrderStatus.EXPIRED, PAYMENT_EXPIRED)
            return False
        if not self.cancel_requested:
            for books in self.book.books.values():
                books.move(Bucket.BACKORDERED, Bucket.PENDING, books.backordered)
        return True

    def _payment_overdue(self) -> bool:
        return (
            self.book.payment is PaymentStatus.PENDING
            and self.deadline is not None
            and workflow.now() >= self.deadline
            and not self.cancel_requested
        )

    async def _compensate(self, status: OrderStatus, reason: str) -> None:
        """Undo in reverse: picked goods back to where they came from, allocations
        back, reservations released; every open quantity becomes canceled; the
        order ends with `status` and says why."""
        self.closing = True
        async with self.lock:
            tenant = self.order.tenant_id
            picked = [
                PutBackOne(
                    allocation_id=a.allocation_id, to_location=self.book.origins[a.allocation_id]
                )
                for r in self.book.requests.values()
                for a in r.allocations
                if a.status == "picked" and a.quantity > 0
            ]
            if picked:
                await self._act(
                    OrderActivities.put_back_stock,
                    PutBackInput(tenant_id=tenant, key=self._key("put-back"), items=picked),
                )
            allocated = [
                a.allocation_id
                for r in self.book.requests.values()
                for a in r.allocations
                if a.status == "allocated" and a.quantity > 0
            ]
            if allocated:
                await self._act(
                    OrderActivities.deallocate_stock,
                    KeyedIds(tenant_id=tenant, key=self._key("deallocate"), ids=allocated),
                )
            reservations = list(self.book.reservations)
            if reservations:
                await self._act(
                    OrderActivities.release_reservations,
                    KeyedIds(tenant_id=tenant, key=self._key("release"), ids=reservations),
                )
            for request in self.book.requests.values():
                if request.status != "shipped":
                    request.status = "canceled"
                for a in request.allocations:
                    if a.status in ("allocated", "picked"):
                        a.status, a.quantity = "released", 0
            for r in self.book.reservations.values():
                r.open = 0
            for books in self.book.books.values():
                for bucket in (*_OPEN, Bucket.BACKORDERED):
                    books.move(bucket, Bucket.CANCELED, books.get(bucket))
            self.book.close(status, reason=reason)
        await self._publish()

    # -- updates from the warehouse --------------------------------------------------

    @workflow.update
    async def accept(self, data: RequestInput) -> OrderView:
        self.book.request(data.request_id).status = "accepted"
        self.book.settle_status()
        await self._publish()
        return self.book.view()

    @accept.validator
    def _check_accept(self, data: RequestInput) -> None:
        request = self._open_request(data.request_id)
        if request.status != "requested":
            raise refuse(f"request {request.id} is {request.status}, not requested")

    @workflow.update
    async def pick(self, data: PickInput) -> OrderView:
        async with self.lock:
            self._still_open()
            request = self.book.request(data.request_id)
            picks, shorts = self._plan_pick(request, data)
            # One key per request: a retried confirmation replays, never picks twice.
            key = f"{self.book.workflow_id}/pick/{request.id}"
            result = await self._act(
                OrderActivities.pick_stock,
                PickStockInput(
                    tenant_id=self.order.tenant_id, key=key, picks=picks, actor=data.actor
                ),
            )
            for pick in picks:
                source = next(
                    a for a in request.allocations if a.allocation_id == pick.allocation_id
                )
                source.quantity -= pick.quantity
                picked = AllocationView(
                    allocation_id=result.picked[pick.allocation_id],
                    reservation_id=source.reservation_id,
                    line_id=source.line_id,
                    location=pick.to_location,
                    lot=source.lot,
                    serial=source.serial,
                    quantity=pick.quantity,
                    status="picked",
                )
                self.book.origins[picked.allocation_id] = source.location
                request.allocations.append(picked)
                self.book.books[source.line_id].move(Bucket.ALLOCATED, Bucket.PICKED, pick.quantity)
                self._request_line(request, source.line_id).picked += pick.quantity
            for a, missing in shorts:
                await self._act(
                    OrderActivities.short_pick,
                    ShortPickInput(
                        tenant_id=self.order.tenant_id,
                        key=f"{key}/short",
                        allocation_id=a.allocation_id,
                        reservation_id=a.reservation_id,
                        quantity=missing,
                        warehouse=request.warehouse,
                        location=a.location,
                        sku=self.book.sku(a.line_id),
                        lot=a.lot,
                        reason=f"short pick on {request.id}: {missing} not found",
                        serials=[a.serial] if a.serial else [],
                        actor=data.actor,
                    ),
                )
                a.quantity -= missing
                self.book.books[a.line_id].move(Bucket.ALLOCATED, Bucket.PENDING, missing)
                self._request_line(request, a.line_id).quantity -= missing
            # Nothing found at all: the request has nothing left to pack or ship.
            request.status = "picked" if picks else "canceled"
        self.book.settle_status()
        await self._publish()
        return self.book.view()

    def _plan_pick(
        self, request: RequestView, data: PickInput
    ) -> tuple[list[PickOne], list[tuple[AllocationView, int]]]:
        """Which allocations the confirmed quantities come from (several entries of a
        line may name lots, locations or serials), and what was not found (short)."""
        taken: dict[int, int] = {}
        for line in data.lines:
            remaining = line.quantity
            serials = set(line.serials)
            for a in self.book.allocations(request, line.line_id, "allocated"):
                if (
                    (line.lot and a.lot != line.lot)
                    or (line.location and a.location != line.location)
                    or (serials and a.serial not in serials)
                ):
                    continue
                take = min(a.quantity - taken.get(a.allocation_id, 0), remaining)
                if take > 0:
                    taken[a.allocation_id] = taken.get(a.allocation_id, 0) + take
                    remaining -= take
        staging = self.staging[request.warehouse]
        picks = [
            PickOne(allocation_id=aid, quantity=quantity, to_location=staging)
            for aid, quantity in taken.items()
        ]
        # One confirmation covers the whole request: what was not picked is short.
        shorts = [
            (a, a.quantity - taken.get(a.allocation_id, 0))
            for a in request.allocations
            if a.status == "allocated" and a.quantity > taken.get(a.allocation_id, 0)
        ]
        return picks, shorts

    @staticmethod
    def _request_line(request: RequestView, line_id: str) -> Any:
        return next(x for x in request.lines if x.line_id == line_id)

    def _still_open(self) -> None:
        """An update admitted before compensation began must not act after it."""
        if self.closing:
            raise refuse(f"order {self.order.order_number} is {self.book.status}")

    @pick.validator
    def _check_pick(self, data: PickInput) -> None:
        self._open_request(data.request_id)
        try:
            self.book.check_pick(data)
        except Exception as error:
            raise refuse(str(error)) from error

    @workflow.update
    async def pack(self, data: PackInput) -> OrderView:
        request = self.book.request(data.request_id)
        for package in data.packages:
            for line in package.lines:
                self.book.books[line.line_id].move(Bucket.PICKED, Bucket.PACKED, line.quantity)
                next(x for x in request.lines if x.line_id == line.line_id).packed += line.quantity
            request.packages.append(packed(package))
        request.status = "packed"
        self.book.settle_status()
        await self._publish()
        return self.book.view()

    @pack.validator
    def _check_pack(self, data: PackInput) -> None:
        request = self._open_request(data.request_id)
        if request.status != "picked":
            raise refuse(f"request {request.id} is {request.status}; pick it first")
        packed: dict[str, int] = {}
        numbers = [p.package_number for p in data.packages]
        if not numbers or len(set(numbers)) != len(numbers):
            raise refuse("packages need distinct package numbers")
        for package in data.packages:
            for line in package.lines:
                if line.quantity <= 0:
                    raise refuse(f"package {package.package_number}: quantities must be positive")
                packed[line.line_id] = packed.get(line.line_id, 0) + line.quantity
        picked = {x.line_id: x.picked for x in request.lines if x.picked}
        if packed != picked:
            raise refuse(f"packages must hold exactly what was picked: {picked}, not {packed}")

    @workflow.update
    async def ship(self, data: ShipInput) -> OrderView:
        self.shipping = True
        try:
            await self._ship(data)
        finally:
            self.shipping = False
        self.book.settle_status()
        await self._publish()
        return self.book.view()

    async def _ship(self, data: ShipInput) -> None:
        async with self.lock:
            self._still_open()
            request = self.book.request(data.request_id)
            staged = [a for a in request.allocations if a.status == "picked" and a.quantity > 0]
            await self._act(
                OrderActivities.ship_stock,
                KeyedIds(
                    tenant_id=self.order.tenant_id,
                    key=f"{self.book.workflow_id}/ship/{request.id}",
                    ids=[a.allocation_id for a in staged],
                    actor=data.actor,
                ),
            )
            for a in staged:
                self.book.books[a.line_id].move(Bucket.PACKED, Bucket.SHIPPED, a.quantity)
                next(x for x in request.lines if x.line_id == a.line_id).shipped += a.quantity
                a.status = "shipped"
            request.status = "shipped"
            request.packages = with_tracking(request.packages, data.packages)
            self.book.shipments.append(
                ShipmentView(
                    request_id=request.id,
                    carrier=data.carrier,
                    service_level=data.service_level,
                    tracking_numbers=shipment_tracking(request.packages, data.tracking_numbers),
                    packages=list(request.packages),
                    shipped_at=workflow.now().isoformat(),
                )
            )

    @ship.validator
    def _check_ship(self, data: ShipInput) -> None:
        request = self._open_request(data.request_id)
        if request.status != "packed":
            raise refuse(f"request {request.id} is {request.status}; pack it first")
        if not data.carrier.strip():
            raise refuse("a carrier is required")
        unknown = {t.package_number for t in data.packages} - {
            p.package_number for p in request.packages
        }
        if unknown:
            raise refuse(f"request {request.id} has no package {sorted(unknown)}", "InvalidInput")

    def _open_request(self, request_id: str) -> Any:
        if self.cancel_requested or self.closing or self.book.status.is_final:
            raise refuse(f"order {self.order.order_number} is {self.book.status}")
        try:
            return self.book.request(request_id)
        except Exception as error:
            raise refuse(str(error)) from error

    # -- updates from the shop -------------------------------------------------------

    @workflow.update
    async def cancel(self, data: CancelInput) -> OrderView:
        # The validator refuses a blank reason, but a cancel accepted before it did
        # still replays here: such an order must close, not fail its task forever.
        self.cancel_asked = data.reason.strip() or "canceled on request (no reason given)"
        self.cancel_requested = True
        # Canceled, or already closing for another reason (expired, rejected).
        await workflow.wait_condition(lambda: self.book.status.is_final)
        return self.book.view()

    @cancel.validator
    def _check_cancel(self, data: CancelInput) -> None:
        if self.book.status.is_final or self.cancel_requested or self.closing:
            raise refuse(f"order {self.order.order_number} is already {self.book.status}")
        if self.shipping:
            raise refuse(f"order {self.order.order_number} is being shipped")
        if not any(b.open or b.backordered for b in self.book.books.values()):
            raise refuse(f"order {self.order.order_number} has shipped; request a return")
        if not data.reason.strip():
            raise refuse("a cancel needs a reason", "InvalidInput")

    @workflow.update
    async def add_hold(self, data: HoldInput) -> HoldView:
        hold = HoldView(id=f"H{len(self.book.holds) + 1}", code=data.code, reason=data.reason)
        self.book.holds.append(hold)
        self.book.settle_status()
        await self._publish()
        return hold

    @add_hold.validator
    def _check_hold(self, data: HoldInput) -> None:
        if self.book.status.is_final or self.cancel_requested or self.closing:
            raise refuse(f"order {self.order.order_number} is {self.book.status}")
        if not data.code.strip():
            raise refuse("a hold needs a code")

    @workflow.update
    async def release_hold(self, data: ReleaseHoldInput) -> HoldView:
        hold = next(h for h in self.book.holds if h.id == data.hold_id)
        hold.active = False
        self.book.settle_status()
        await self._publish()
        return hold

    @release_hold.validator
    def _check_release_hold(self, data: ReleaseHoldInput) -> None:
        if not any(h.id == data.hold_id and h.active for h in self.book.holds):
            raise refuse(f"no active hold {data.hold_id!r}")

    @workflow.update
    async def authorize_payment(self, data: AuthorizePaymentInput) -> OrderView:
        self.book.payment = PaymentStatus.AUTHORIZED
        await self._publish()
        return self.book.view()

    @authorize_payment.validator
    def _check_payment(self, data: AuthorizePaymentInput) -> None:
        if self.book.payment is not PaymentStatus.PENDING:
            raise refuse("payment is already authorized")
        if self.book.status.is_final or self.cancel_requested or self.closing:
            raise refuse(f"order {self.order.order_number} is {self.book.status}")

    @workflow.update
    async def extend_reservation(self, data: ExtendReservationInput) -> ExtendReservationResult:
        assert self.deadline is not None
        self._set_deadline(max(self.deadline, workflow.now()) + timedelta(seconds=data.seconds))
        await self._publish()
        return ExtendReservationResult(expires_at=self.book.expires_at or "")

    @extend_reservation.validator
    def _check_extension(self, data: ExtendReservationInput) -> None:
        waiting = self.book.status is OrderStatus.PENDING_PAYMENT and self.deadline is not None
        if self.book.payment is not PaymentStatus.PENDING or not waiting or self.closing:
            raise refuse("only a reservation waiting for payment can be extended")
        if not 0 < data.seconds <= MAX_EXTENSION:
            raise refuse(f"seconds must be between 1 and {MAX_EXTENSION}")

    @workflow.signal
    def stock_arrived(self, data: StockArrivedInput) -> None:
        if any(line.sku == data.sku for line in self.order.lines):
            self.restocked = True

    @workflow.query
    def status(self) -> OrderView:
        return self.book.view()

    # -- plumbing --------------------------------------------------------------------

    def _key(self, step: str) -> str:
        """An idempotency key per step of this run; versioned so a retry replays."""
        self.book.version += 1
        return f"{self.book.workflow_id}/{step}/{self.book.version}"

    def _start_payment_clock(self) -> None:
        """An unpaid order holds stock for ttl_seconds from when it first holds any."""
        if self.deadline is None and self.book.payment is PaymentStatus.PENDING:
            ttl = self.order.payment.ttl_seconds or DEFAULT_TTL
            self._set_deadline(workflow.now() + timedelta(seconds=ttl))

    def _set_deadline(self, deadline: datetime) -> None:
        self.deadline = deadline
        self.book.expires_at = deadline.isoformat()

    async def _act(self, activity: Any, arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.ORDER_STEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    async def _publish(self) -> None:
        """The new state to the projection and the search attributes."""
        self.book.version += 1
        self._upsert_search_attributes()
        try:
            await self._project(OrderActivities.project_order, self.book.view())
        except (ActivityError, ApplicationError) as error:
            if not self.rejects_unrecordable:
                raise
            # The database refused this view for good: the order goes on (its
            # status query answers); the activity_failing alert names it.
            workflow.logger.error("order %s not projected: %s", self.order.order_number, error)

    async def _project(self, activity: Any, arg: Any) -> Any:
        """The order's rows in Postgres: a short write the worker runs at once, as a
        local activity (recorded as a marker; retried by the worker)."""
        if self.unrecorded:
            return None
        if not self._local_projection():
            return await self._act(activity, arg)
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.PROJECTION_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
            local_retry_threshold=retry_policies.LOCAL_RETRY_THRESHOLD,
        )

    def _local_projection(self) -> bool:
        # (The SDK remembers the answer.) An update handled in the run's first
        # activation may ask first and project before record_order wrote the row:
        # that write finds no row and is lost, and the next publish writes it all.
        return workflow.patched(LOCAL_PROJECTION)

    def _upsert_search_attributes(self) -> None:
        wanted = search_attributes.for_order(self.order, self.book.status)
        if self._local_projection() or workflow.patched(UPSERT_ON_CHANGE):
            wanted = search_attributes.changed(wanted)
            if not wanted:
                return
        workflow.upsert_search_attributes(wanted)


_OPEN = (Bucket.PENDING, Bucket.RESERVED, Bucket.ALLOCATED, Bucket.PICKED, Bucket.PACKED)
