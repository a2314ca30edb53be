"""OrderWorkflow: an order's whole life, from receipt to shipment.

record → wait while held → reserve → (payment window) → allocate → fulfillment
requests per warehouse → the warehouse accepts, picks, packs and ships through
updates → shipped. Backordered quantity waits for stock; cancel compensates.
The order's rules are the aggregate's (domain.order_book.OrderBook): this class
sequences activities, timers and waits, and publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    # pydantic resolves the carried state's types (the view's address) by their
    # module, which must be in the sandbox too
    import contracts.shipping  # noqa: F401
    from activities.orders import OrderActivities
    from contracts.orders import (
        AllocateResult,
        KeyedIds,
        OrderInput,
        OrderView,
        PackInput,
        PickAndProjectInput,
        PickInput,
        RequestInput,
        ReserveLinesInput,
        ReserveLinesResult,
        ShipAndProjectInput,
        ShipInput,
    )
    from domain.order_book import PAYMENT_EXPIRED, OrderBook, Step, with_picked_ids
    from domain.order_requests import PickPlan
    from domain.orders import Bucket, OrderStatus, PaymentStatus
    from workflows.continuation import EarlierSteps
    from workflows.order.plumbing import (
        EVERY_PATCH,
        GIVES_BACK_BY_REFERENCE,
        LEAN_SHAPE,
        LEAN_SHAPE_2,
        LOCAL_PROJECTION,
        RESERVE_AND_ALLOCATE,
        UPSERT_ON_CHANGE,
        content,
    )
    from workflows.order.shop_updates import ShopUpdates
    from workflows.refusals import step_failed

__all__ = [
    "EVERY_PATCH",
    "GIVES_BACK_BY_REFERENCE",
    "LEAN_SHAPE",
    "LEAN_SHAPE_2",
    "LOCAL_PROJECTION",
    "PAYMENT_EXPIRED",
    "RESERVE_AND_ALLOCATE",
    "UPSERT_ON_CHANGE",
    "OrderWorkflow",
]

RETRY_BACKORDERS = timedelta(hours=1)  # a missed stock signal costs an hour at most
RETRY_STAGING = timedelta(minutes=5)  # a warehouse that could not stage is asked again

# Runs started before this patch failed when the database refused to record the
# order, and stopped on a projection the database refused; now the first rejects
# the order with its reason and the second is logged (an alert names it) while the
# order goes on. Asked at the run's start, with LOCAL_PROJECTION, for that reason
# (by runs started before EVERY_PATCH, which implies it).
REJECT_UNRECORDABLE = "reject-unrecordable-orders"
# Runs started before this patch rejected an order whose warehouse has no staging
# location and never continued as new. Now such an order waits (its reservation
# kept, allocation retried), and a waiting run whose history grew past MAX_HISTORY
# continues as new with its whole state. Asked at the run's start, for that reason
# (by runs started before EVERY_PATCH, which implies it).
WAITS_CHEAPLY = "waits-cheaply"


@workflow.defn
class OrderWorkflow(ShopUpdates):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        wid = workflow.info().workflow_id
        carried = order.carried
        self.book = OrderBook.resume(order, wid, carried) if carried else OrderBook.open(order, wid)
        # Temporal answers a repeated update id only within the run that took it.
        self.steps = EarlierSteps(carried.steps_done if carried else None)
        self.holds_by_step = dict(carried.holds_by_step) if carried else {}
        self.lock = asyncio.Lock()  # stock steps of updates and of run() never interleave
        self.waits_cheaply = False

    # -- the story ---------------------------------------------------------------

    @workflow.run
    async def run(self, order: OrderInput) -> OrderView:
        if self._has_every_patch():
            self.rejects_unrecordable = self.waits_cheaply = self.lean = self.lean2 = True
        else:
            self.rejects_unrecordable = self._local_projection() and workflow.patched(
                REJECT_UNRECORDABLE
            )
            self.waits_cheaply = workflow.patched(WAITS_CHEAPLY)
            self.lean = workflow.patched(LEAN_SHAPE)
            self.lean2 = self.lean and workflow.patched(LEAN_SHAPE_2)
        if order.carried is not None or await self._record():
            self._upsert_search_attributes()
            try:
                await self._fulfil()
            except ActivityError as error:
                # A step refused for good (a business rule, a value the database
                # refuses): undo what was done.
                workflow.logger.warning("order %s refused: %s", order.order_number, error.cause)
                await self._compensate(OrderStatus.REJECTED, step_failed(error))
        if self.book.cancel_asked is not None and not self.book.closing:
            await self._compensate(OrderStatus.CANCELED, self.book.cancel_asked)
        self.book.settle_status()
        await self._publish(closing=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.book.view()

    async def _fulfil(self) -> None:
        """Reserve, (wait for payment), allocate, let the warehouse work; again for
        whatever a short pick or a shortage handed back, until nothing is open."""
        book = self.book
        while not book.cancel_requested:
            if not await self._unheld():
                return
            allocated = await self._reserve_pending()
            if book.closing:
                return  # rejected
            if not allocated:  # (RESERVE_AND_ALLOCATE: the reservation may allocate too)
                if book.wants_complete() and book.total(Bucket.BACKORDERED):
                    if not await self._wait_for_stock():
                        return
                    continue
                if book.payment is PaymentStatus.PENDING and not await self._payment_window():
                    return
                if not await self._unheld():
                    return
                await self._allocate()
            if book.closing:
                return  # rejected: no staging (a run from before WAITS_CHEAPLY)
            if book.unstaged:  # some warehouse cannot stage: ask again later, or on stock
                book.watch_stock()
                await self._wait(lambda: book.cancel_requested or book.restocked, RETRY_STAGING)
                continue
            await self._wait(
                lambda: book.cancel_requested or book.requests_done() or book.total(Bucket.PENDING)
            )
            if book.total(Bucket.PENDING):
                continue  # a short pick gave quantity back: reserve it again
            if book.total(Bucket.BACKORDERED):
                if not await self._wait_for_stock():
                    return
                continue
            return

    async def _unheld(self) -> bool:
        """Wait while a hold is active; False if the order was canceled meanwhile."""
        if self.book.active_holds:
            await self._publish()
            await self._wait(lambda: self.book.cancel_requested or not self.book.active_holds)
        return not self.book.cancel_requested

    async def _reserve_pending(self) -> bool:
        """A reservation round; True when it allocated too (RESERVE_AND_ALLOCATE):
        the run then stands where `_allocate` leaves it."""
        needs = self.book.needs()
        if not needs:
            return False
        self.book.watch_stock()
        order = self.book.order
        async with self.lock:
            at_once = self._allocates_at_once()
            key = self._key("reserve")
            allocate_key = self._key("allocate") if at_once else None
            data = ReserveLinesInput(
                tenant_id=order.tenant_id,
                key=key,
                order_number=order.order_number,
                lines=needs,
                preferred_warehouse=order.preferred_warehouse,
                allow_split=order.allow_split,
                allocate_key=allocate_key,
            )
            result: ReserveLinesResult = await self._act(OrderActivities.reserve_lines, data)
            rejection = self.book.reserved(result, workflow.now())
            allocated = result.allocated
            if allocate_key is not None and result.in_full and allocated is None:
                # The allocation failed there: the step runs now, under the same
                # key (nothing of that allocation was kept; from a worker before
                # migration 0023, what it allocated replays into it), and the book
                # knows all of it before anything else can happen.
                allocated = await self._allocation_step(allocate_key, self.book.allocatable())
            if allocated is not None:
                # booked as the two steps would have (every line was reserved in
                # full: nothing waits); booked also for a rejection, which undoes it
                if not rejection:
                    self.book.settle_status()
                await self._took_allocation(allocated)
        if rejection:
            await self._compensate(OrderStatus.REJECTED, rejection)
        elif allocated is not None:
            # A hold that came meanwhile finds the order allocated, as one that
            # comes after the allocation step (the warehouse's steps wait for it);
            # a cancel, nothing published: the run compensates next.
            if not self.book.cancel_requested:
                await self._after_allocation()
            return True
        else:
            self.book.settle_status()
            if not self.lean:  # lean: the step that follows publishes
                await self._publish()
        return False

    def _allocates_at_once(self) -> bool:
        """(RESERVE_AND_ALLOCATE) Whether the reservation may allocate too: the
        order holds no reservation yet and nothing of it waits outside this round,
        its payment is not pending and no hold is active. If every line is then
        reserved in full, the run would go straight on to allocate exactly those
        reservations, in that order (`allocatable`), and nothing else."""
        book = self.book
        return (
            self._reserves_and_allocates()
            and not book.reservations
            and not book.total(Bucket.BACKORDERED)
            and book.payment is not PaymentStatus.PENDING
            and not book.active_holds
        )

    async def _payment_window(self) -> bool:
        """Hold the stock until payment is authorized; False when the reservation
        expired (stock released) or the order was canceled."""
        self.book.awaiting_payment(workflow.now())
        await self._publish()
        while self.book.payment is PaymentStatus.PENDING and not self.book.cancel_requested:
            deadline = self.book.deadline
            assert deadline is not None
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                await self._compensate(OrderStatus.EXPIRED, PAYMENT_EXPIRED)
                return False
            await self._wait(self._payment_settled(deadline), timedelta(seconds=remaining))
        return not self.book.cancel_requested

    def _payment_settled(self, deadline: datetime) -> Callable[[], bool]:
        """Payment authorized, order canceled, or the deadline moved (extension)."""
        return lambda: (
            self.book.payment is not PaymentStatus.PENDING
            or self.book.cancel_requested
            or self.book.deadline != deadline
        )

    async def _allocate(self) -> None:
        ids = self.book.allocatable()
        if not ids:
            if self.lean:
                await self._publish()  # the reservation round (if it changed anything)
            return
        async with self.lock:
            result = await self._allocation_step(self._key("allocate"), ids)
            await self._took_allocation(result)
        await self._after_allocation()

    async def _allocation_step(self, key: str, ids: list[int]) -> AllocateResult:
        result: AllocateResult = await self._act(
            OrderActivities.allocate_reservations,
            KeyedIds(tenant_id=self.book.order.tenant_id, key=key, ids=ids),
        )
        return result

    async def _took_allocation(self, result: AllocateResult) -> None:
        """(Under the lock) An allocation booked; reserved stock it found nowhere to
        pick from given back."""
        self.book.allocated(result)
        if result.shortfall:
            # Reserved stock no pickable place holds (on a dock, a held lot):
            # stop holding it and wait for stock like any backorder.
            await self._act(
                OrderActivities.release_reservations,
                KeyedIds(
                    tenant_id=self.book.order.tenant_id,
                    key=self._key("release-shortfall"),
                    ids=sorted(result.shortfall),
                ),
            )
            self.book.gave_back(result.shortfall)

    async def _after_allocation(self) -> None:
        """An allocation published (or, in a run from before WAITS_CHEAPLY, the
        order rejected for a warehouse that cannot stage)."""
        if self.book.unstaged and not self.waits_cheaply:
            missing = self.book.unstaged
            reason = f"step allocate_reservations failed: no staging location in {missing}"
            await self._compensate(OrderStatus.REJECTED, reason)
            return
        if self.lean2:
            await self._publish_allocation()
            return
        # The warehouse's queue (the projection) gets the new requests before the
        # order reads as allocated, so a client that saw `allocated` can act on them.
        await self._publish()
        self.book.settle_status()
        await self._publish()

    async def _wait_for_stock(self) -> bool:
        """Backordered lines wait for a stock_arrived signal, then try again. An
        unpaid order's deadline still runs: False when it expired meanwhile."""
        self.book.settle_status()
        await self._publish()
        timeout = RETRY_BACKORDERS
        if self.book.deadline is not None and self.book.payment is PaymentStatus.PENDING:
            timeout = min(timeout, self.book.deadline - workflow.now())
        if timeout > timedelta(0):  # (a zero timeout would mean: no timeout at all)
            await self._wait(lambda: self.book.restocked or self.book.cancel_requested, timeout)
        if self.book.payment_overdue(workflow.now()):
            await self._compensate(OrderStatus.EXPIRED, PAYMENT_EXPIRED)
            return False
        if not self.book.cancel_requested:
            self.book.restock()
        return True

    # -- updates from the warehouse ----------------------------------------------------

    @workflow.update
    async def accept(self, data: RequestInput) -> OrderView:
        if self.steps.repeated():
            return self.book.view()
        self.book.accepted(data.request_id)
        return await self._published()

    @accept.validator
    def _check_accept(self, data: RequestInput) -> None:
        self._check(self.book.check_accept, data.request_id)

    @workflow.update
    async def pick(self, data: PickInput) -> OrderView:
        if self.steps.repeated():
            return self.book.view()
        with self.book.step_underway(data.request_id, Step.PICK):
            async with self.lock:
                self._still_open(Step.PICK)
                plan = self.book.plan_pick(data)
                if self.lean and not plan.shorts:
                    await self._pick_and_project(plan)
                else:
                    picked = await self._act(OrderActivities.pick_stock, plan.stock)
                    self.book.picked(plan, picked)
                    for short in plan.shorts:
                        await self._act(OrderActivities.short_pick, short)
                        self.book.short_picked(plan, short)
                self.book.pick_done(plan)
        return await self._published()

    async def _pick_and_project(self, plan: PickPlan) -> None:
        """A pick with nothing short (lean): the activity writes the order as picked."""
        self.book.next_version()  # its own: a publish meanwhile comes after it
        view = self.book.picked_view(plan)
        result = await self._act(
            OrderActivities.pick_and_project, PickAndProjectInput(stock=plan.stock, view=view)
        )
        picked = result.picked
        assert picked is not None  # (pick_and_project always says)
        self.book.picked(plan, picked)
        if result.projected:
            with_picked_ids(view, picked.picked)
            self._wrote(view.version, content(view))

    @pick.validator
    def _check_pick(self, data: PickInput) -> None:
        self._check(self.book.check_pick, data)

    @workflow.update
    async def pack(self, data: PackInput) -> OrderView:
        if self.steps.repeated():
            return self.book.view()
        self.book.packed(data)
        return await self._published()

    @pack.validator
    def _check_pack(self, data: PackInput) -> None:
        self._check(self.book.check_pack, data)

    @workflow.update
    async def ship(self, data: ShipInput) -> OrderView:
        if self.steps.repeated():
            return self.book.view()
        with self.book.step_underway(data.request_id, Step.SHIP):
            async with self.lock:
                self._still_open(Step.SHIP)
                await self._ship(data)
        return await self._published()

    async def _ship(self, data: ShipInput) -> None:
        """The staged stock leaves; lean: the activity also writes the order as
        shipped, so the publish that follows finds it written."""
        stock = self.book.to_ship(data)
        if not self.lean:
            await self._act(OrderActivities.ship_stock, stock)
            self.book.shipped(data, workflow.now().isoformat())
            return
        shipped_at = workflow.now().isoformat()
        self.book.next_version()  # its own: a publish meanwhile comes after it
        view = self.book.shipped_view(data, shipped_at)
        result = await self._act(
            OrderActivities.ship_and_project, ShipAndProjectInput(stock=stock, view=view)
        )
        self.book.shipped(data, shipped_at)
        if result.projected:
            self._wrote(view.version, content(view))

    @ship.validator
    def _check_ship(self, data: ShipInput) -> None:
        self._check(self.book.check_ship, data)
