"""Order activities: thin, idempotent calls of the stock operations (keys derived
from the workflow id and step), and the order projection. Business refusals become
non-retryable ApplicationErrors; everything else is retried by Temporal."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.order_lines import line_reservation, reserve_at_once, reserve_line
from activities.refusals import ACTOR, actor_of, business
from contracts.orders import (
    AllocatedStock,
    AllocateResult,
    KeyedIds,
    LineReservation,
    OrderStockInput,
    OrderView,
    PickAndProjectInput,
    PickStockInput,
    PickStockResult,
    ProjectedResult,
    ProjectStepsInput,
    PutBackInput,
    RecordOrderInput,
    ReserveLinesInput,
    ReserveLinesResult,
    ShipAndProjectInput,
    ShortPickInput,
)
from db.alerts import staging_alerts
from db.order_projection import OrderProjection
from db.order_steps import allocation_places, held_for_order, line_reads
from db.refusals import refused_value
from db.stock.fulfilling import put_back
from db.stock.on_hand import adjust
from db.stock.operation import Caller, recorded, replayed
from db.stock.promising import deallocate, release
from db.stock.steps import allocate_all, pick_all, ship_all
from domain.errors import DomainError
from domain.order_book import with_picked_ids
from domain.stock import (
    AdjustStock,
    AllocateReservation,
    AllocationResult,
    Deallocate,
    InvalidTransition,
    PickAllocation,
    PutBack,
    ReleaseReservation,
    ReservationsResult,
    ShipAllocation,
)


class OrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._projection = OrderProjection(sessions)

    @activity.defn
    async def record_order(self, data: RecordOrderInput) -> None:
        try:
            await self._projection.record(data.order, data.workflow_id)
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def project_order(self, data: OrderView | ProjectStepsInput) -> None:
        """A view; or views of consecutive steps, in one transaction (lean-order-shape-2:
        an allocation). One name for both: the order's trace shows the projection as
        project_order (a union pydantic tells apart: `views` is ProjectStepsInput's only
        field, a view has no `views`)."""
        if isinstance(data, ProjectStepsInput):
            await self._projection.update_steps(data.views)
        else:
            await self._projection.update(data)

    @activity.defn
    async def reserve_lines(self, data: ReserveLinesInput) -> ReserveLinesResult:
        """Reserve each line where the plan says (preferred warehouse, priority,
        split if allowed); a line's key replays its first result on a retry. What
        every line is planned on is read at once, and the lines are reserved in one
        call, all kept or none; line by line when the stock moved since that read,
        or a SKU's stock is read the long way (activities/order_lines.py)."""
        keys = [f"{data.key}/{need.line_id}" for need in data.lines]
        reads = await line_reads(
            self._sessions,
            data.tenant_id,
            data.order_number,
            keys,
            [need.sku for need in data.lines],
        )
        done = await reserve_at_once(self._sessions, data, keys, reads)
        if done is None:  # line by line, each planned on the stock there is now
            done = [
                replayed(read.recorded, ReservationsResult)
                if read.recorded is not None
                else await reserve_line(
                    self._sessions, Caller(data.tenant_id, key, ACTOR), data, need
                )
                for need, key, read in zip(data.lines, keys, reads, strict=True)
            ]
        results = [
            line_reservation(read, need, line)
            for need, read, line in zip(data.lines, reads, done, strict=True)
        ]
        outcome = ReserveLinesResult(lines=results)
        if data.allocate_key is None or not outcome.in_full:
            return outcome
        allocated = await self._allocate_at_once(data.tenant_id, data.allocate_key, results)
        return dataclasses.replace(outcome, allocated=allocated)

    async def _allocate_at_once(
        self, tenant_id: int, key: str, lines: list[LineReservation]
    ) -> AllocateResult | None:
        """Every line was reserved in full: allocate it all now, as the step that
        follows would (the same reservations in the same order, the same key). Any
        failure leaves it to that step: it runs under the same key (nothing of the
        failed allocation was kept: one transaction), and it fails, retries and
        alerts as its own."""
        ids = [part.reservation_id for line in lines for part in line.parts]
        try:
            return await self._allocate(KeyedIds(tenant_id=tenant_id, key=key, ids=ids))
        except Exception as error:
            activity.logger.warning("allocation left to its own step: %s", error)
            return None

    @activity.defn
    async def release_reservations(self, data: KeyedIds) -> None:
        """Release what is left of each reservation (nothing left is fine)."""
        for reservation_id in data.ids:
            caller = Caller(data.tenant_id, f"{data.key}/{reservation_id}", actor_of(data.actor))
            try:
                await release(self._sessions, caller, ReleaseReservation(reservation_id))
            except InvalidTransition:
                continue

    @activity.defn
    async def allocate_reservations(self, data: KeyedIds) -> AllocateResult:
        return await self._allocate(data)

    async def _allocate(self, data: KeyedIds) -> AllocateResult:
        """Allocate each reservation by its item's strategy, all in one transaction
        (db/stock/steps.py: refused at any reservation, nothing is kept; each keeps
        its own key, so a retry replays what was done). Picked goods need a
        staging place: a reservation at a warehouse without one is not allocated
        (it stays reserved, the result names the warehouse, a `setup` alert says
        what to fix) and the order waits instead of failing."""
        places = await allocation_places(self._sessions, data.tenant_id, data.ids)
        where, staging, unstaged = places.warehouses, places.staging, places.unstaged
        await staging_alerts(self._sessions, data.tenant_id, staging, unstaged, places.alerted)
        answers: dict[int, AllocationResult | None] = {}
        step = []
        for reservation_id in data.ids:
            caller = Caller(data.tenant_id, f"{data.key}/{reservation_id}", actor_of(data.actor))
            if where.get(reservation_id) in unstaged:
                # stays reserved until its warehouse can stage, unless this key
                # allocated it already (its staging went away since): that replays
                answers[reservation_id] = await recorded(self._sessions, caller, AllocationResult)
            else:
                step.append((caller, AllocateReservation(reservation_id)))
        try:
            # None: nothing left to allocate (released meanwhile, or under another key)
            done = await allocate_all(self._sessions, step)
        except DomainError as error:
            raise business(error) from error
        answers.update(
            (command.reservation_id, r) for (_, command), r in zip(step, done, strict=True)
        )
        allocations = []
        shortfall = {}
        for reservation_id in data.ids:
            result = answers[reservation_id]
            if result is None:
                continue
            allocations += [
                AllocatedStock(
                    reservation_id=reservation_id,
                    allocation_id=a.id,
                    warehouse=a.warehouse,
                    location=a.location,
                    lot=a.lot,
                    serial=a.serial,
                    quantity=a.quantity,
                )
                for a in result.allocations
            ]
            if result.shortfall:
                shortfall[reservation_id] = result.shortfall
        return AllocateResult(
            allocations=allocations, shortfall=shortfall, staging=staging, unstaged=unstaged
        )

    @activity.defn
    async def pick_stock(self, data: PickStockInput) -> PickStockResult:
        return await self._pick(data)

    @activity.defn
    async def pick_and_project(self, data: PickAndProjectInput) -> ProjectedResult:
        """Pick, then project the order as picked (see ship_and_project)."""
        picked = await self._pick(data.stock)
        with_picked_ids(data.view, picked.picked)
        return dataclasses.replace(await self._project_quietly(data.view), picked=picked)

    async def _pick(self, data: PickStockInput) -> PickStockResult:
        """Every allocation of the pick, or none (one transaction, db/stock/steps.py):
        a pick refused at any allocation keeps nothing of the others, which stay open
        for the step asked again. Each allocation keeps its own key (a retry replays
        it)."""
        actor = actor_of(data.actor)
        picks = [
            (
                Caller(data.tenant_id, f"{data.key}/{one.allocation_id}", actor),
                PickAllocation(one.allocation_id, one.quantity, one.to_location),
            )
            for one in data.picks
        ]
        try:
            results = await pick_all(self._sessions, picks)
        except DomainError as error:
            raise business(error) from error
        return PickStockResult(
            picked={
                one.allocation_id: result.allocations[0].id
                for one, result in zip(data.picks, results, strict=True)
            }
        )

    @activity.defn
    async def short_pick(self, data: ShortPickInput) -> None:
        """What was allocated but not found: give it back, stop promising it, and
        take it off the books at that location (reasoned adjustment)."""
        base, actor = f"{data.key}/{data.allocation_id}", actor_of(data.actor)
        await self._quietly(
            deallocate(
                self._sessions,
                Caller(data.tenant_id, f"{base}/deallocate", actor),
                Deallocate(data.allocation_id, data.quantity),
            )
        )
        if data.reservation_id is not None:
            await self._quietly(
                release(
                    self._sessions,
                    Caller(data.tenant_id, f"{base}/release", actor),
                    ReleaseReservation(data.reservation_id, data.quantity),
                )
            )
        await self._quietly(
            adjust(
                self._sessions,
                Caller(data.tenant_id, f"{base}/adjust", actor),
                AdjustStock(
                    data.warehouse,
                    data.location,
                    data.sku,
                    -data.quantity,
                    data.reason,
                    data.lot,
                    data.serials,
                ),
            )
        )

    async def _quietly(self, operation: Awaitable[object]) -> None:
        """Run a compensating step. A business refusal means it is done or moot (or,
        for a write-off, that the stock moved meanwhile): log it and go on, never
        retry it forever."""
        try:
            await operation
        except DomainError as refusal:
            activity.logger.info("compensation step refused: %s", refusal.detail)

    @activity.defn
    async def ship_stock(self, data: KeyedIds) -> None:
        await self._ship(data)

    @activity.defn
    async def ship_and_project(self, data: ShipAndProjectInput) -> ProjectedResult:
        """Ship, then project the order as shipped: the step and the write it causes
        in one activity. A retry ships nothing twice (the keys replay) and writes the
        same version again (ignored). A view the database refuses for good is logged
        and reported, not retried: the stock has left, the order goes on."""
        await self._ship(data.stock)
        return await self._project_quietly(data.view)

    async def _project_quietly(self, view: OrderView) -> ProjectedResult:
        """The view after a step: written, or logged when the database refuses it for
        good (the step's stock has moved: the activity must not fail for it)."""
        try:
            await self._projection.update(view)
        except Exception as error:
            refused = refused_value(error)
            if refused is None:
                raise
            activity.logger.error("order %s not projected: %s", view.order_number, refused)
            return ProjectedResult(projected=False)
        return ProjectedResult(projected=True)

    async def _ship(self, data: KeyedIds) -> None:
        """Every allocation of the shipment, or none (one transaction; see _pick)."""
        actor = actor_of(data.actor)
        ships = [
            (
                Caller(data.tenant_id, f"{data.key}/{allocation_id}", actor),
                ShipAllocation(allocation_id),
            )
            for allocation_id in data.ids
        ]
        try:
            await ship_all(self._sessions, ships)
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def deallocate_stock(self, data: KeyedIds) -> None:
        for allocation_id in data.ids:
            caller = Caller(data.tenant_id, f"{data.key}/{allocation_id}", actor_of(data.actor))
            await self._quietly(deallocate(self._sessions, caller, Deallocate(allocation_id)))

    @activity.defn
    async def give_back_order_stock(self, data: OrderStockInput) -> None:
        """Compensation: every allocation not yet picked, then every reservation
        given back: those the run's book knows, and those the database holds for
        the order's lines that it does not (a step refused after part of it
        committed; a reference another order's line could spell too is left to
        that order). Deallocating returns stock to its reservation, so reservations
        are read after. A retry finds what is left; each id's key replays."""
        tenant, number, lines = data.tenant_id, data.order_number, data.line_ids
        found = await held_for_order(self._sessions, "allocations", tenant, number, lines)
        for allocation_id in sorted({*data.allocation_ids, *found}):
            caller = Caller(tenant, f"{data.key}/allocation/{allocation_id}", ACTOR)
            await self._quietly(deallocate(self._sessions, caller, Deallocate(allocation_id)))
        found = await held_for_order(self._sessions, "reservations", tenant, number, lines)
        for reservation_id in sorted({*data.reservation_ids, *found}):
            caller = Caller(tenant, f"{data.key}/reservation/{reservation_id}", ACTOR)
            await self._quietly(release(self._sessions, caller, ReleaseReservation(reservation_id)))

    @activity.defn
    async def put_back_stock(self, data: PutBackInput) -> None:
        for one in data.items:
            caller = Caller(data.tenant_id, f"{data.key}/{one.allocation_id}", ACTOR)
            await self._quietly(
                put_back(self._sessions, caller, PutBack(one.allocation_id, one.to_location))
            )
