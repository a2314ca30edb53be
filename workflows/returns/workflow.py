"""ReturnWorkflow: one RMA from request to refund.

requested → approve | reject → receive (per line: received, accepted, disposition;
one stock transaction) → close (refund record) → closed. Nothing received within
the window → expired (the claim on the order's shipped quantities is given back).
Steps are updates with validators: a step out of order or a receipt that does not
fit the return is refused before anything is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows import continuation
from workflows.wakeups import wake_waiting_orders

with workflow.unsafe.imports_passed_through():
    from activities.returns import ReturnActivities
    from contracts.returns import (
        CloseInput,
        DecisionInput,
        ProjectReturnInput,
        ReceiveInput,
        ReceiveReturnInput,
        ReturnCarried,
        ReturnInput,
        ReturnLineView,
        ReturnView,
    )
    from domain.errors import DomainError
    from domain.returns import ReceivedLine, ReturnStatus, check_receipt, refund
    from workflows import retry_policies, search_attributes
    from workflows.refusals import not_yet, refusal, refuse, refused


@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, data: ReturnInput) -> None:
        self.data = data
        self.view = ReturnView(
            tenant_id=data.tenant_id,
            rma_number=data.rma_number,
            order_number=data.order_number,
            workflow_id=workflow.info().workflow_id,
            currency=data.currency,
            reason=data.reason,
            status=ReturnStatus.REQUESTED,
            lines=[
                ReturnLineView(
                    line_id=x.line_id, sku=x.sku, requested=x.requested, unit_price=x.unit_price
                )
                for x in data.lines
            ],
        )
        self.lock = asyncio.Lock()  # a receipt and the expiry never interleave
        self.may_continue = False  # continue as new when the history grows long
        if data.carried is not None:  # continued from an earlier run: its state
            self.view = data.carried.view

    @workflow.run
    async def run(self, data: ReturnInput) -> ReturnView:
        self.may_continue = data.carried is not None or workflow.patched(continuation.PATCH)
        # The deadline is the one the request was answered with (a worker that starts
        # late does not push it); runs started without one count from their start.
        if self.view.expires_at is not None:  # (a continued run's)
            deadline = datetime.fromisoformat(self.view.expires_at)
        elif data.expires_at is not None:
            deadline = datetime.fromisoformat(data.expires_at)
        else:
            deadline = workflow.now() + timedelta(seconds=data.window_seconds)
        if data.carried is None:
            self.view.expires_at = deadline.isoformat()
            await self._publish()
        try:
            left = deadline - workflow.now()
            if left <= timedelta(0):  # (a zero timeout would mean no timeout at all)
                raise TimeoutError
            await self._wait(
                lambda: self.view.status not in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED),
                within=left,
            )
        except TimeoutError:
            async with self.lock:  # a receipt under way finishes first
                if self.view.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED):
                    self.view.status = ReturnStatus.EXPIRED
                    self.view.decision_reason = "nothing received within the return window"
                    await self._publish()
        await self._wait(lambda: self.view.status.is_final)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _wait(self, done: Callable[[], bool], within: timedelta | None = None) -> None:
        """Wait until `done`; continue as new meanwhile if the history grows long."""
        await continuation.wait_or_continue(
            done,
            within,
            enabled=self.may_continue,
            limit=self.data.history_limit,
            carried=lambda: replace(self.data, carried=ReturnCarried(view=self.view)),
        )

    # -- steps (updates) ------------------------------------------------------------

    @workflow.update
    async def approve(self, data: DecisionInput) -> ReturnView:
        self.view.status = ReturnStatus.APPROVED
        self.view.decision_reason = data.reason or None
        await self._publish()
        return self.view

    @approve.validator
    def _check_approve(self, data: DecisionInput) -> None:
        self._expect(ReturnStatus.REQUESTED, "approve")

    @workflow.update
    async def reject(self, data: DecisionInput) -> ReturnView:
        self.view.status = ReturnStatus.REJECTED
        self.view.decision_reason = data.reason
        await self._publish()
        return self.view

    @reject.validator
    def _check_reject(self, data: DecisionInput) -> None:
        self._expect(ReturnStatus.REQUESTED, "reject")
        if not data.reason.strip():
            raise refuse("a rejection needs a reason")

    @workflow.update
    async def receive(self, data: ReceiveInput) -> ReturnView:
        async with self.lock:
            self._expect(ReturnStatus.APPROVED, "receive")  # expired while waiting?
            try:
                result = await self._act(
                    ReturnActivities.receive_return_stock,
                    ReceiveReturnInput(
                        key=f"{self.view.workflow_id}/receive", order=self.data, receipt=data
                    ),
                )
            except ActivityError as error:
                raise refusal(error) from error
            by_id = {x.line_id: x for x in self.view.lines}
            for x in data.lines:
                line = by_id[x.line_id]
                line.received, line.accepted = x.received, x.accepted
                line.disposition, line.lot = x.disposition, x.lot
                line.stock_lot = result.lots.get(x.line_id)
            self.view.warehouse, self.view.location = data.warehouse, data.location
            self.view.status = ReturnStatus.RECEIVED
            await self._publish()
        if result.sellable_skus:
            await wake_waiting_orders(self.data.tenant_id, result.sellable_skus)
        return self.view

    @receive.validator
    def _check_receive(self, data: ReceiveInput) -> None:
        self._expect(ReturnStatus.APPROVED, "receive")
        if not data.warehouse or not data.location:
            raise refuse("a receipt names its warehouse and location")
        try:
            check_receipt(
                {x.line_id: x.requested for x in self.view.lines},
                [
                    ReceivedLine(x.line_id, x.received, x.accepted, x.disposition, x.lot)
                    for x in data.lines
                ],
                {x.line_id: x.sku for x in self.view.lines},
            )
        except DomainError as error:
            raise refused(error) from error

    @workflow.update
    async def close(self, data: CloseInput) -> ReturnView:
        sizes = {x.line_id: x.unit_size for x in self.data.lines}
        accepted = [(x.accepted, Decimal(x.unit_price)) for x in self.view.lines]
        amount = refund(accepted, [sizes[x.line_id] for x in self.view.lines])
        self.view.refund_amount = str(amount)
        if amount == 0:
            self.view.refund_reason = "nothing was accepted"
        self.view.status = ReturnStatus.CLOSED
        await self._publish()
        return self.view

    @close.validator
    def _check_close(self, data: CloseInput) -> None:
        if self.view.status is ReturnStatus.APPROVED and self.lock.locked():
            raise not_yet(
                f"return {self.view.rma_number} is being received; it can be closed once "
                "it is received"
            )
        self._expect(ReturnStatus.RECEIVED, "close")

    @workflow.query
    def status(self) -> ReturnView:
        return self.view

    # -- plumbing ---------------------------------------------------------------------

    def _expect(self, status: ReturnStatus, step: str) -> None:
        if self.view.status is not status:
            raise refuse(f"cannot {step} return {self.view.rma_number}: it is {self.view.status}")

    async def _act(self, activity: Any, arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.ORDER_STEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    async def _publish(self) -> None:
        """The new state to the projection and the search attributes."""
        self.view.version += 1
        changed = search_attributes.changed(
            search_attributes.for_return(
                self.data.tenant_id,
                self.data.rma_number,
                self.data.order_number,
                self.view.status.value,
            )
        )
        if changed:
            workflow.upsert_search_attributes(changed)
        await self._act(ReturnActivities.project_return, ProjectReturnInput(view=self.view))
