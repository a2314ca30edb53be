"""The order workflow's plumbing: how it runs an activity, publishes its state
(projection and search attributes), keys its steps and turns the aggregate's
refusals into update refusals. Workflow code (deterministic)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities
    from contracts.orders import (
        KeyedIds,
        OrderStockInput,
        OrderView,
        ProjectStepsInput,
        PutBackInput,
        RecordOrderInput,
    )
    from domain.errors import DomainError, InvalidInput
    from domain.order_book import NotYet, OrderBook
    from domain.order_requests import Step
    from domain.orders import OrderStatus
    from workflows import retry_policies, search_attributes
    from workflows.continuation import EarlierSteps, history_is_long
    from workflows.refusals import not_yet, refused, step_failed

# Runs started before this patch upserted every search attribute at every publish.
UPSERT_ON_CHANGE = "search-attributes-on-change"
# Runs started before this patch recorded the order and wrote the projection with
# (remote) activities; now they are local activities: no task queue round trip.
# It was the first thing a run asked (before EVERY_PATCH, which comes first now),
# and such runs upsert on change without asking UPSERT_ON_CHANGE: a patch first
# asked right after a local activity breaks replay when the worker split that
# workflow task (the patch marker lands in a later task than the one that resolves
# the local activity).
LOCAL_PROJECTION = "projection-in-local-activities"
# Runs started before this patch published after every reservation round, again at
# the run's end when nothing had changed, and shipped a request in one activity and
# projected it in a second. Now a reservation round is published by the step that
# follows it (the allocation, the payment window or a wait: each publishes), a view
# equal to the last one written is not written again (but for the run's last), and a
# request ships and is projected in one activity (ship_and_project). Asked at the
# run's start.
LEAN_SHAPE = "lean-order-shape"
# Runs started before this patch (lean ones) wrote an allocation in two local
# activities (the view with the new requests, then the view reading `allocated`),
# drew a version at every publish, also one that wrote nothing, and always wrote the
# run's last view. Now both views of an allocation go in one local activity
# (project_order with ProjectStepsInput: one transaction, so no reader sees the first without the
# second, and the events are those of two writes); a publish whose view says what
# the last one written said neither writes nor draws a version; the run's last view
# is written only when it is not the last one written (content and version). Asked
# at the run's start, after LEAN_SHAPE (for the reason LOCAL_PROJECTION says).
LEAN_SHAPE_2 = "lean-order-shape-2"
# Runs started before this patch asked five patches at their start (LOCAL_PROJECTION,
# REJECT_UNRECORDABLE, WAITS_CHEAPLY, LEAN_SHAPE, LEAN_SHAPE_2), each a marker in the
# history and an upsert of TemporalChangeVersion (core adds one per marker). A run
# started with this one has them all, so it asks this one alone, before any other
# patch (also when an update handled in its first activation asks first): one marker,
# one upsert. Safe for runs in flight: on replay a patch is True only for a marker in
# the history, and a False answer sends no command, so an older run asks the five as
# before. (Asking LEAN_SHAPE_2 first instead breaks replay of runs that recorded all
# five: core matches markers in recorded order.) Two consequences: a worker with code
# from before this patch cannot replay new runs (it would ask LOCAL_PROJECTION, find
# no marker and take the old path), so a rollback past it needs new runs drained; and
# TemporalChangeVersion of new runs lists only this id: a visibility query for runs
# without one of the five must count this one as having them all.
EVERY_PATCH = "order-patches-in-one"
# Runs started before this patch reserved and allocated as two activities, each a
# task-queue round trip. Now an order's first reservation round, when its payment is
# not pending and no hold is active, asks the reservation to allocate too when every
# line was reserved in full (ReserveLinesInput.allocate_key): one activity, and the
# run goes on from where the allocation step would have left it. When that
# allocation failed, the allocation step runs at once, under the same key (nothing
# of the failed allocation was kept: one transaction; from a worker before
# migration 0023, what it allocated replays into it); when a line was short, it
# runs as before.
# Implies EVERY_PATCH and is asked first in every run, before it, as EVERY_PATCH is
# before the five (a run from before asks it during replay and finds no marker:
# False, no command, and it asks EVERY_PATCH as before); new runs record this one
# marker alone.
RESERVE_AND_ALLOCATE = "order-reserve-and-allocate"
# Runs started before this patch gave back, when they closed early (canceled,
# expired, rejected), the allocations and reservations their book knew. A step that
# failed for good after part of it committed (a second line refused after the first
# was reserved or allocated) left that part unknown to the book, and promised to a
# closed order. Now the allocations not yet picked and the open reservations the
# database holds for the order's lines are given back with those the book knows
# (one activity, give_back_order_stock, instead of deallocate_stock and
# release_reservations); picked goods are still put back from the book. Implies
# RESERVE_AND_ALLOCATE and is asked first in every run, before it (a run from before
# finds no marker: False, no command); new runs record this one marker alone. As
# with EVERY_PATCH, a worker with code from before this patch cannot replay new
# runs: a rollback past it needs new runs drained.
GIVES_BACK_BY_REFERENCE = "order-gives-back-by-reference"

MAX_HISTORY = 1_000  # events: past this a waiting run continues as new


def content(view: OrderView) -> str:
    """What a view says but for its version: cheaper to keep than a copy (the view
    shares the book's requests and holds, which change after it is sent)."""
    return repr(dataclasses.replace(view, version=0))


T = TypeVar("T")


class OrderPlumbing:
    book: OrderBook
    steps: EarlierSteps  # the steps this and earlier runs completed (update ids)
    holds_by_step: dict[str, str]  # add_hold's update id: the hold it made
    lock: asyncio.Lock  # stock steps of updates and of run() never interleave
    waits_cheaply: bool = False  # may wait for staging, continues as new
    rejects_unrecordable: bool = False
    unrecorded: bool = False  # the database refused the order: nothing to project
    lean: bool = False  # LEAN_SHAPE: publishes only what changed, ships and projects at once
    lean2: bool = False  # LEAN_SHAPE_2: an allocation in one write, no version for nothing
    projected: tuple[int, str] | None = None  # (lean) the last view written: version, content

    async def _record(self) -> bool:
        """The order's rows as received; False when the database refused them: the
        order is rejected with the reason (no stock was touched, no row holds it)."""
        order = self.book.order
        try:
            await self._project(
                OrderActivities.record_order,
                RecordOrderInput(order=order, workflow_id=self.book.workflow_id),
            )
        except (ActivityError, ApplicationError) as error:  # (local: ApplicationError)
            if not self.rejects_unrecordable:
                raise
            workflow.logger.warning("order %s not recorded: %s", order.order_number, error)
            self.unrecorded = True
            self.book.begin_closing()
            self.book.close(OrderStatus.REJECTED, reason=step_failed(error, "record_order"))
            return False
        return True

    async def _wait(self, done: Callable[[], object], at_most: timedelta | None = None) -> None:
        """Until `done` (or for `at_most`). A run whose history grew long meanwhile
        continues as new here, carrying its whole state: nothing runs, and the next
        run starts `_fulfil` from the top, which leads it back where this one was
        (a stream of stock signals keeps `done` true: it must not keep a run going)."""
        try:
            await workflow.wait_condition(lambda: bool(done()) or self._due(), timeout=at_most)
        except TimeoutError:
            return
        if self._due():
            state = dataclasses.replace(
                self.book.snapshot(), steps_done=self.steps.done, holds_by_step=self.holds_by_step
            )
            carried = dataclasses.replace(self.book.order, carried=state)
            workflow.continue_as_new(carried)

    def _due(self) -> bool:
        """Time to continue as new: a long history, nothing running."""
        return (
            self.waits_cheaply
            and not self.book.closing
            and not self.lock.locked()
            and workflow.all_handlers_finished()
            and history_is_long(MAX_HISTORY)
        )

    async def _compensate(self, status: OrderStatus, reason: str) -> None:
        """Undo in reverse: picked goods back to where they came from, allocations
        back, reservations released; the order ends with `status` and says why."""
        self.book.begin_closing()
        async with self.lock:
            tenant = self.book.order.tenant_id
            picked = self.book.to_put_back()
            if picked:
                await self._act(
                    OrderActivities.put_back_stock,
                    PutBackInput(tenant_id=tenant, key=self._key("put-back"), items=picked),
                )
            if self._gives_back_by_reference():
                await self._act(
                    OrderActivities.give_back_order_stock,
                    OrderStockInput(
                        tenant_id=tenant,
                        key=self._key("give-back"),
                        order_number=self.book.order.order_number,
                        line_ids=list(self.book.books),
                        allocation_ids=self.book.to_deallocate(),
                        reservation_ids=list(self.book.reservations),
                    ),
                )
            else:
                allocated = self.book.to_deallocate()
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
            self.book.compensated(status, reason)
        await self._publish()

    def _check(self, check: Callable[[T], None], arg: T) -> None:
        """A validator: the aggregate's refusal as the update's (changes nothing).
        A step an earlier run completed is let through: its handler answers it."""
        if self.steps.repeated():
            return
        try:
            check(arg)
        except NotYet as error:
            raise not_yet(error.detail) from error
        except InvalidInput as error:
            raise refused(error, "InvalidInput") from error
        except DomainError as error:
            raise refused(error) from error

    def _still_open(self, step: Step) -> None:
        """An update admitted before compensation began must not act after it."""
        self._check(self.book.check_still_open, step)

    def _key(self, step: str) -> str:
        """An idempotency key per step of this run; versioned so a retry replays."""
        return f"{self.book.workflow_id}/{step}/{self.book.next_version()}"

    async def _act(self, activity: Any, arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.ORDER_STEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    async def _published(self) -> OrderView:
        """After a warehouse step: the status the books say, published; the view."""
        self.book.settle_status()
        await self._publish()
        self.steps.completed()
        return self.book.view()

    async def _publish(self, *, closing: bool = False) -> None:
        """The new state to the projection and the search attributes. `closing`: the
        run's last view, written also when unchanged (LEAN_SHAPE_2: unless it is the
        last one written, version and all), so the projection a closed order is read
        from carries the version the run returned."""
        if self.lean2:
            self._upsert_search_attributes()
            await self._write(self._fresh(closing=closing))
            return
        self.book.next_version()
        self._upsert_search_attributes()
        view = self.book.view()
        said = content(view) if self.lean else ""
        if self.lean and not closing and self.projected is not None and self.projected[1] == said:
            return  # written already (but for its version)
        await self._write((view, said))

    async def _publish_allocation(self) -> None:
        """(LEAN_SHAPE_2) An allocation: its new requests, then the order reading
        `allocated`, as two views written in one transaction. The warehouse's queue
        has the requests before the order reads `allocated` (a client that saw it
        can act on them); one write of the allocated view would keep that too (the
        projection writes the order row and its requests in one statement), but
        its events would come in another order (the order's before its requests')."""
        requests = self._fresh()
        self.book.settle_status()
        self._upsert_search_attributes()
        allocated = self._fresh(after=requests)
        await self._write(requests, allocated)

    def _fresh(
        self, *, closing: bool = False, after: tuple[OrderView, str] | None = None
    ) -> tuple[OrderView, str] | None:
        """(LEAN_SHAPE_2) The book's view with a version of its own and what it says,
        or None when the last view written (or `after`, about to be) says the same;
        at the run's close, only when it is also the book's version (keys draw
        versions too: the run returns the book's)."""
        view = self.book.view()
        said = content(view)
        last = (after[0].version, after[1]) if after else self.projected
        if last is not None and last[1] == said and (not closing or last[0] == view.version):
            return None
        return dataclasses.replace(view, version=self.book.next_version()), said

    async def _write(self, *fresh: tuple[OrderView, str] | None) -> None:
        """Views (and what each says; None: nothing to write) to the projection, in
        one local activity."""
        views = [v for v in fresh if v is not None]
        if not views:
            return
        try:
            data = (
                views[0][0] if len(views) == 1 else ProjectStepsInput(views=[v for v, _ in views])
            )
            await self._project(OrderActivities.project_order, data)
        except (ActivityError, ApplicationError) as error:
            if not self.rejects_unrecordable:
                raise
            # The database refused this view for good: the order goes on (its
            # status query answers); the activity_failing alert names it.
            number = self.book.order.order_number
            workflow.logger.error("order %s not projected: %s", number, error)
            return
        if self.lean:
            for view, said in views:
                self._wrote(view.version, said)

    def _wrote(self, version: int, said: str) -> None:
        """A view was written; the projection keeps the highest version (publishes
        may finish out of order)."""
        if self.projected is None or version > self.projected[0]:
            self.projected = (version, said)

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

    def _has_every_patch(self) -> bool:
        """Whether the run started with EVERY_PATCH (or RESERVE_AND_ALLOCATE, which
        implies it), so with every patch before it. Asked before any other patch
        (the SDK remembers the answers)."""
        return self._reserves_and_allocates() or workflow.patched(EVERY_PATCH)

    def _reserves_and_allocates(self) -> bool:
        """Whether the run started with RESERVE_AND_ALLOCATE (or GIVES_BACK_BY_REFERENCE,
        which implies it)."""
        return self._gives_back_by_reference() or workflow.patched(RESERVE_AND_ALLOCATE)

    def _gives_back_by_reference(self) -> bool:
        """Whether the run started with GIVES_BACK_BY_REFERENCE: the first patch any
        run asks (every path asks it here, directly or through _has_every_patch)."""
        return workflow.patched(GIVES_BACK_BY_REFERENCE)

    def _local_projection(self) -> bool:
        # (The SDK remembers the answer.) An update handled in the run's first
        # activation may ask first and project before record_order wrote the row:
        # that write finds no row and is lost, and the next publish writes it all.
        return self._has_every_patch() or workflow.patched(LOCAL_PROJECTION)

    def _upsert_search_attributes(self) -> None:
        wanted = search_attributes.for_order(self.book.order, self.book.status)
        if self._local_projection() or workflow.patched(UPSERT_ON_CHANGE):
            wanted = search_attributes.changed(wanted)
            if not wanted:
                return
        workflow.upsert_search_attributes(wanted)
