"""TransferWorkflow: stock moving from one warehouse to another (DESIGN §6).

record → reserve at the source (short: rejected) → the source ships (update) or the
transfer is canceled (update; releases the reservation) → in transit, with an alert
when it stays there too long → the destination receives (updates; partial receipts,
discrepancies written off with a reason) → completed when nothing is outstanding.
Received stock wakes backordered orders of its SKUs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows import continuation
from workflows.wakeups import wake_waiting_orders

with workflow.unsafe.imports_passed_through():
    from activities.transfers import TransferActivities
    from contracts.transfers import (
        CancelTransferInput,
        InFlightView,
        ReceiptView,
        ReceiveTransferInput,
        ReceiveTransferStockInput,
        RecordTransferInput,
        ReserveTransferInput,
        ReserveTransferResult,
        ShipTransferInput,
        TransferAlertInput,
        TransferCarried,
        TransferInput,
        TransferLineView,
        TransferReservations,
        TransferView,
    )
    from domain.errors import DomainError
    from domain.transfers import (
        InFlight,
        InFlightRecord,
        NotYet,
        TransferBook,
        TransferReceiptLine,
        TransferStatus,
        TransferStep,
        TransferStockResult,
        check_step,
    )
    from workflows import retry_policies, search_attributes
    from workflows.refusals import not_yet, refusal, refuse, refused, step_failed


# A canceled transfer always says why, even when the request gave no reason.
NO_REASON_GIVEN = "canceled on request (no reason given)"


@workflow.defn
class TransferWorkflow:
    @workflow.init
    def __init__(self, data: TransferInput) -> None:
        self.data = data
        self.view = TransferView(
            tenant_id=data.tenant_id,
            transfer_number=data.transfer_number,
            workflow_id=workflow.info().workflow_id,
            from_warehouse=data.from_warehouse,
            to_warehouse=data.to_warehouse,
            status=TransferStatus.REQUESTED,
            lines=[TransferLineView(sku=x.sku, lot=x.lot, quantity=x.quantity) for x in data.lines],
        )
        self.book = TransferBook()
        self.reservations: list[int] = []
        self.lock = asyncio.Lock()  # stock steps of updates never interleave
        self.cancel_requested = False
        self.ship_attempts = 0  # a refused ship may be tried again with fresh keys
        self.may_continue = False  # continue as new when the history grows long
        self.steps = continuation.EarlierSteps()
        if data.carried is not None:  # continued from an earlier run: its state
            self.view = data.carried.view
            self.reservations = list(data.carried.reservations)
            self.ship_attempts = data.carried.ship_attempts
            self.steps = continuation.EarlierSteps(data.carried.steps_done)
            self._keep(self.view.stock)

    # -- the story ---------------------------------------------------------------

    @workflow.run
    async def run(self, data: TransferInput) -> TransferView:
        self.may_continue = data.carried is not None or workflow.patched(continuation.PATCH)
        if data.carried is None:
            self._upsert_search_attributes()
            try:
                await self._act(
                    TransferActivities.record_transfer,
                    RecordTransferInput(transfer=data, workflow_id=self.view.workflow_id),
                )
                await self._reserve()
            except ActivityError as error:
                workflow.logger.warning(
                    "transfer %s rejected: %s", data.transfer_number, error.cause
                )
                self.view.reason = step_failed(error)
                self.view.status = TransferStatus.REJECTED
                await self._publish()
                return await self._finish()
        await self._wait(self._shipped_or_canceled)
        if self.view.status is not TransferStatus.CANCELED:
            await self._until_received()
        return await self._finish()

    def _shipped_or_canceled(self) -> bool:
        return self.view.status not in (TransferStatus.REQUESTED, TransferStatus.RESERVED)

    async def _reserve(self) -> None:
        result: ReserveTransferResult = await self._act(
            TransferActivities.reserve_transfer,
            ReserveTransferInput(
                tenant_id=self.data.tenant_id,
                key=self._key("reserve"),
                transfer_number=self.data.transfer_number,
                from_warehouse=self.data.from_warehouse,
                lines=list(self.data.lines),
            ),
        )
        self.reservations = [r.reservation_id for r in result.reservations]
        for line, reserved in zip(self.view.lines, result.reservations, strict=True):
            line.reserved = reserved.quantity
        self.view.status = TransferStatus.RESERVED
        await self._publish()

    async def _until_received(self) -> None:
        """Wait for the receipts; raise an alert once if the goods stay in transit
        longer than alert_after_seconds."""
        alert_in = self._alert_in()
        if alert_in is not None:
            try:
                await self._wait(self._completed, within=alert_in)
            except TimeoutError:
                await self._alert()
        await self._wait(self._completed)

    def _alert_in(self) -> timedelta | None:
        """How long until the in-transit alert (None: it was raised already)."""
        if self.view.alerted:
            return None
        if self.data.carried is None:  # (as the runs before continuing waited)
            return timedelta(seconds=self.data.alert_after_seconds)
        assert self.view.alert_at is not None
        left = datetime.fromisoformat(self.view.alert_at) - workflow.now()
        return max(left, timedelta(milliseconds=1))  # (zero would mean no timeout)

    async def _wait(self, done: Callable[[], bool], within: timedelta | None = None) -> None:
        """Wait until `done`; continue as new meanwhile if the history grows long."""
        await continuation.wait_or_continue(
            done,
            within,
            enabled=self.may_continue,
            limit=self.data.history_limit,
            carried=lambda: replace(
                self.data,
                carried=TransferCarried(
                    view=self.view,
                    reservations=self.reservations,
                    ship_attempts=self.ship_attempts,
                    steps_done=self.steps.done,
                ),
            ),
        )

    def _completed(self) -> bool:
        return self.view.status is TransferStatus.COMPLETED

    async def _alert(self) -> None:
        self.view.alerted = True
        message = (
            f"transfer {self.data.transfer_number} from {self.data.from_warehouse} to "
            f"{self.data.to_warehouse} shipped {self.view.shipped_at} is still in transit "
            f"after {self.data.alert_after_seconds} s ({self.book.outstanding} outstanding)"
        )
        await self._act(
            TransferActivities.raise_transfer_alert,
            TransferAlertInput(
                tenant_id=self.data.tenant_id,
                transfer_number=self.data.transfer_number,
                message=message,
            ),
        )
        await self._publish()

    async def _finish(self) -> TransferView:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    # -- updates ---------------------------------------------------------------------

    @workflow.update
    async def ship(self, data: ShipTransferInput) -> TransferView:
        if self.steps.repeated():
            return self.view
        async with self.lock:
            self._check(TransferStep.SHIP, shipping=False)  # (this one ships)
            self.ship_attempts += 1
            try:
                result: TransferStockResult = await self._act(
                    TransferActivities.ship_transfer,
                    TransferReservations(
                        tenant_id=self.data.tenant_id,
                        key=self._key(f"ship/{self.ship_attempts}"),
                        transfer_number=self.data.transfer_number,
                        reservation_ids=self.reservations,
                        actor=data.actor,
                    ),
                )
            except ActivityError as error:
                raise refusal(error) from error
            self._take(result)
            for line in self.view.lines:
                line.reserved = 0
            now = workflow.now()
            self.view.carrier = data.carrier
            self.view.tracking_number = data.tracking_number
            self.view.shipped_at = now.isoformat()
            alert_at = now + timedelta(seconds=self.data.alert_after_seconds)
            self.view.alert_at = alert_at.isoformat()
            self.view.status = TransferStatus.IN_TRANSIT
            await self._publish()
        self.steps.completed()
        return self.view

    @ship.validator
    def _check_ship(self, data: ShipTransferInput) -> None:
        if self.steps.repeated():
            return
        if not data.carrier.strip():
            raise refuse("a carrier is required", "InvalidInput")
        self._check(TransferStep.SHIP)

    @workflow.update
    async def cancel(self, data: CancelTransferInput) -> TransferView:
        self.cancel_requested = True
        # Reserving may still be under way: cancel what it leaves.
        await workflow.wait_condition(lambda: self.view.status is not TransferStatus.REQUESTED)
        async with self.lock:
            if self.view.status is not TransferStatus.RESERVED:
                return self.view  # rejected meanwhile: nothing is held
            await self._act(
                TransferActivities.release_transfer,
                TransferReservations(
                    tenant_id=self.data.tenant_id,
                    key=self._key("release"),
                    transfer_number=self.data.transfer_number,
                    reservation_ids=self.reservations,
                ),
            )
            for line in self.view.lines:
                line.reserved = 0
            self.view.reason = (data.reason or "").strip() or NO_REASON_GIVEN
            self.view.status = TransferStatus.CANCELED
            await self._publish()
        return self.view  # (final: no later run to repeat it to)

    @cancel.validator
    def _check_cancel(self, data: CancelTransferInput) -> None:
        self._check(TransferStep.CANCEL)

    @workflow.update
    async def receive(self, data: ReceiveTransferInput) -> TransferView:
        if self.steps.repeated():
            return self.view
        async with self.lock:
            # Checked again: another receipt may have taken the outstanding quantity
            # since this one was validated.
            self._check_receipt(data, shipping=False)
            update = workflow.current_update_info()
            step = update.id if update is not None else str(len(self.view.receipts))
            try:
                result: TransferStockResult = await self._act(
                    TransferActivities.receive_transfer,
                    ReceiveTransferStockInput(
                        tenant_id=self.data.tenant_id,
                        key=f"{self.view.workflow_id}/receive/{step}",
                        transfer_number=self.data.transfer_number,
                        location=data.location,
                        lines=list(data.lines),
                        actor=data.actor,
                    ),
                )
            except ActivityError as error:
                raise refusal(error) from error
            self._take(result)
            self.view.receipts.append(
                ReceiptView(
                    location=data.location,
                    received_at=workflow.now().isoformat(),
                    lines=list(data.lines),
                )
            )
            self.view.status = (
                TransferStatus.COMPLETED
                if self.book.outstanding == 0
                else TransferStatus.PARTIALLY_RECEIVED
            )
            await self._publish()
        self.steps.completed()
        await wake_waiting_orders(
            self.data.tenant_id, sorted({x.sku for x in data.lines if x.received > 0})
        )
        return self.view

    @receive.validator
    def _check_receive(self, data: ReceiveTransferInput) -> None:
        if not self.steps.repeated():
            self._check_receipt(data, shipping=self.lock.locked())

    def _check_receipt(self, data: ReceiveTransferInput, shipping: bool) -> None:
        if not data.location.strip():
            raise refuse("a location is required", "InvalidInput")
        self._check(TransferStep.RECEIVE, shipping=shipping)
        lines = [
            TransferReceiptLine(x.sku, x.lot, x.received, x.reason, x.serials) for x in data.lines
        ]
        try:
            self.book.check_receipt(lines)
        except DomainError as error:
            raise refused(error, type(error).__name__) from error

    def _check(self, step: TransferStep, shipping: bool | None = None) -> None:
        """Refuse `step` unless the transfer's rules allow it now: at once when it
        cannot apply, as early (the API asks again) when what enables it is under
        way. `shipping`: whether a stock step is under way (default: the lock)."""
        try:
            check_step(
                step,
                self.data.transfer_number,
                self.view.status,
                shipping=self.lock.locked() if shipping is None else shipping,
                canceling=self.cancel_requested,
            )
        except NotYet as error:
            raise not_yet(error.detail) from error
        except DomainError as error:
            raise refused(error) from error

    @workflow.query
    def status(self) -> TransferView:
        return self.view

    # -- plumbing --------------------------------------------------------------------

    def _take(self, result: TransferStockResult) -> None:
        """The transfer's books as the database has them after a stock step."""
        self._keep(result.stock)

    def _keep(self, stock: Sequence[InFlightRecord | InFlightView]) -> None:
        """The books, and the view of them, from the database's totals (after a stock
        step) or from the view a continued run was handed."""
        self.book = TransferBook(
            [InFlight(s.sku, s.lot, s.shipped, s.received, s.written_off) for s in stock]
        )
        self.view.stock = [
            InFlightView(
                sku=s.sku,
                lot=s.lot,
                shipped=s.shipped,
                received=s.received,
                written_off=s.written_off,
                outstanding=s.outstanding,
            )
            for s in self.book.stock
        ]

    def _key(self, step: str) -> str:
        """An idempotency key per step of this run (a retry of the step replays it)."""
        return f"{self.view.workflow_id}/{step}"

    async def _act(self, activity: Any, arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.TRANSFER_STEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    async def _publish(self) -> None:
        """The new state to the projection and the search attributes."""
        self.view.version += 1
        self._upsert_search_attributes()
        await self._act(TransferActivities.project_transfer, self.view)

    def _upsert_search_attributes(self) -> None:
        changed = search_attributes.changed(
            search_attributes.for_transfer(self.data, self.view.status)
        )
        if changed:
            workflow.upsert_search_attributes(changed)
