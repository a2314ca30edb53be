"""PurchaseOrderWorkflow: goods bought from a supplier for one warehouse.

record (the lines come into `incoming`) → receipts (updates; partial, each one
through the receipt operation, waking backordered orders) → `received` when every
line is in, or closed short / canceled (updates; what is outstanding leaves
`incoming`). Meanwhile a durable timer waits for the earliest outstanding
expected date: still outstanding then, a `late_po` alert is raised; it resolves
itself when the PO is received, closed, canceled or rescheduled past now."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.wakeups import wake_waiting_orders

with workflow.unsafe.imports_passed_through():
    from decimal import Decimal

    from activities.purchasing import PurchaseOrderActivities
    from contracts.purchasing import (
        ClosePurchaseOrderInput,
        LateAlertInput,
        PoLineView,
        PoStepInput,
        PurchaseOrderInput,
        PurchaseOrderView,
        ReceivePurchaseOrderInput,
        RecordPurchaseOrderInput,
        ReschedulePurchaseOrderInput,
    )
    from domain.errors import DomainError
    from domain.purchasing import (
        PoLine,
        PoReceiptLine,
        PurchaseOrderStatus,
        check_receipt,
        late_lines,
        next_due,
    )
    from workflows import retry_policies, search_attributes
    from workflows.refusals import not_yet, refusal, refuse, refused, step_failed


@workflow.defn
class PurchaseOrderWorkflow:
    @workflow.init
    def __init__(self, data: PurchaseOrderInput) -> None:
        self.data = data
        self.view = PurchaseOrderView(
            tenant_id=data.tenant_id,
            po_number=data.po_number,
            workflow_id=workflow.info().workflow_id,
            supplier=data.supplier,
            warehouse=data.warehouse,
            status=PurchaseOrderStatus.OPEN,
            lines=[
                PoLineView(
                    line_no=x.line_no,
                    sku=x.sku,
                    ordered=x.quantity,
                    received=0,
                    expected_at=x.expected_at,
                )
                for x in data.lines
            ],
        )
        self.recorded = False
        self.changed = False  # a step moved the books or the dates: look again
        self.lock = asyncio.Lock()  # steps never interleave

    # -- the story ---------------------------------------------------------------

    @workflow.run
    async def run(self, data: PurchaseOrderInput) -> PurchaseOrderView:
        self._upsert_search_attributes()
        try:
            self._take(
                await self._act(
                    PurchaseOrderActivities.record_purchase_order,
                    RecordPurchaseOrderInput(order=data, workflow_id=self.view.workflow_id),
                )
            )
        except ActivityError as error:
            workflow.logger.warning("purchase order %s rejected: %s", data.po_number, error.cause)
            self.view.reason = step_failed(error)
            self.view.status = PurchaseOrderStatus.REJECTED
            self._upsert_search_attributes()
            return await self._finish()
        self.recorded = True
        while not self.view.status.is_final:
            await self._watch_dates()
        if self.view.alerted:
            await self._late_alert(resolution=f"purchase order {self.view.status}")
        return await self._finish()

    async def _watch_dates(self) -> None:
        """Until a step changes something: wait for the earliest outstanding date (if
        no alert is open) and alert when it passes; resolve an open alert that no
        line justifies any more."""
        due = None if self.view.alerted else next_due(self.view.books())
        if due is None:
            await workflow.wait_condition(lambda: self.changed)
        else:
            wait = max(due - workflow.now(), timedelta(milliseconds=1))
            try:
                await workflow.wait_condition(lambda: self.changed, timeout=wait)
            except TimeoutError:
                await self._alert_if_late()
                return
        self.changed = False  # (a step during the alert's activity is seen here at once)
        if self.view.alerted and not self.view.status.is_final and not self._late():
            await self._late_alert(resolution="no line is past its expected date any more")

    def _late(self) -> list[PoLine]:
        return late_lines(self.view.books(), workflow.now())

    async def _alert_if_late(self) -> None:
        late = self._late()
        if not late or self.view.status.is_final:
            return
        lines = ", ".join(
            f"line {x.line_no} ({x.sku}: {x.outstanding} of {x.ordered} outstanding, expected "
            f"{x.expected_at.isoformat()})"
            for x in late
        )
        message = (
            f"purchase order {self.data.po_number} from {self.data.supplier} to "
            f"{self.data.warehouse} is late: {lines}. Chase the supplier, or reschedule the "
            f"lines to the supplier's new date (PATCH /v1/purchase-orders/{self.data.po_number})"
        )
        await self._late_alert(message=message)

    async def _late_alert(self, *, message: str = "", resolution: str = "") -> None:
        await self._act(
            PurchaseOrderActivities.late_po_alert,
            LateAlertInput(
                tenant_id=self.data.tenant_id,
                po_number=self.data.po_number,
                message=message,
                resolution=resolution,
            ),
        )
        self.view.alerted = bool(message)

    async def _finish(self) -> PurchaseOrderView:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    # -- updates ---------------------------------------------------------------------

    @workflow.update
    async def receive(self, data: ReceivePurchaseOrderInput) -> PurchaseOrderView:
        async with self.lock:
            self._check_receipt(data)  # again: another receipt may have come meanwhile
            await self._step("receive", PurchaseOrderActivities.receive_purchase_order, data)
        await wake_waiting_orders(self.data.tenant_id, sorted({x.sku for x in data.lines}))
        return self.view

    @receive.validator
    def _validate_receive(self, data: ReceivePurchaseOrderInput) -> None:
        self._check_receipt(data)

    def _check_receipt(self, data: ReceivePurchaseOrderInput) -> None:
        self._check_open()
        if not data.location.strip():
            raise refuse("a location is required", "InvalidInput")
        receipt = [PoReceiptLine(line_no=x.line_no, quantity=x.quantity) for x in data.lines]
        try:
            check_receipt(self.view.books(), receipt, Decimal(self.data.over_receipt_tolerance))
        except DomainError as error:
            raise refused(error, type(error).__name__) from error

    @workflow.update
    async def close(self, data: ClosePurchaseOrderInput) -> PurchaseOrderView:
        async with self.lock:
            self._check_close(data)
            await self._step("close", PurchaseOrderActivities.close_purchase_order, data)
        return self.view

    @close.validator
    def _validate_close(self, data: ClosePurchaseOrderInput) -> None:
        self._check_close(data)

    def _check_close(self, data: ClosePurchaseOrderInput) -> None:
        self._check_open()
        if not data.reason.strip():
            raise refuse("a reason is required", "InvalidInput")
        if data.status is PurchaseOrderStatus.CANCELED and any(x.received for x in self.view.lines):
            raise refuse(
                f"purchase order {self.data.po_number} has received goods: close it short instead"
            )

    @workflow.update
    async def reschedule(self, data: ReschedulePurchaseOrderInput) -> PurchaseOrderView:
        async with self.lock:
            self._check_open()
            await self._step("reschedule", PurchaseOrderActivities.reschedule_purchase_order, data)
        return self.view

    @reschedule.validator
    def _validate_reschedule(self, data: ReschedulePurchaseOrderInput) -> None:
        self._check_open()
        known = {x.line_no for x in self.view.lines}
        for n, line in enumerate(data.lines):
            if line.line_no not in known:
                raise refuse(f"lines.{n}: the PO has no line {line.line_no}", "InvalidInput")

    def _check_open(self) -> None:
        if self.view.status.is_final:
            raise refuse(f"purchase order {self.data.po_number} is {self.view.status}")
        if not self.recorded:
            raise not_yet(f"purchase order {self.data.po_number} is still being recorded")

    @workflow.query
    def status(self) -> PurchaseOrderView:
        return self.view

    # -- plumbing --------------------------------------------------------------------

    async def _step(self, step: str, activity: Any, data: Any) -> None:
        """A stock step; its key is the update's id (a repeat of the request is the same
        update), its refusal the update's failure; the books as the database has them."""
        update = workflow.current_update_info()
        step_id = update.id if update is not None else workflow.uuid4().hex
        arg = PoStepInput(
            tenant_id=self.data.tenant_id,
            key=f"{self.view.workflow_id}/{step}/{step_id}",
            po_number=self.data.po_number,
            actor=getattr(data, "actor", ""),
            tolerance=self.data.over_receipt_tolerance,
            **{step: data},
        )
        try:
            self._take(await self._act(activity, arg))
        except ActivityError as error:
            raise refusal(error) from error
        self.changed = True

    def _take(self, view: PurchaseOrderView) -> None:
        alerted = self.view.alerted
        self.view = view
        self.view.alerted = alerted
        self._upsert_search_attributes()

    async def _act(self, activity: Any, arg: Any) -> Any:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.TRANSFER_STEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    def _upsert_search_attributes(self) -> None:
        changed = search_attributes.changed(
            search_attributes.for_purchase_order(self.data, self.view.status)
        )
        if changed:
            workflow.upsert_search_attributes(changed)
