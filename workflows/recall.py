"""RecallWorkflow: a bad batch taken out of circulation. Id `recall:<tenant>:<id>`
(the recalls row the API created). It quarantines each lot everywhere (pulling it
from open allocations: those orders are told and re-allocate from other lots or
wait as backorders), then completes the recall: the report of every shipment that
carried the lots (from the ledger), a `recall` alert saying whom to contact, and
the `recall.completed` event."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.recalls import RecallActivities
    from contracts.orders import StockPulledInput, order_workflow_id
    from contracts.recalls import (
        CompleteRecallInput,
        CompleteRecallResult,
        HoldRecalledLotInput,
        HoldRecalledLotResult,
        RecallInput,
        RecallStatus,
    )
    from workflows import retry_policies


@workflow.defn
class RecallWorkflow:
    def __init__(self) -> None:
        self.state = RecallStatus(status="holding")
        self.held: dict[str, dict[str, int]] = {}
        self.pulled: dict[str, int] = {}
        self.picked: dict[str, int] = {}
        self.not_held: dict[str, str] = {}

    @workflow.run
    async def run(self, data: RecallInput) -> CompleteRecallResult:
        for lot in data.lots:
            held = await self._hold(data, lot)
            await self._tell_orders(data.tenant_id, held, lot)
        self.state = RecallStatus(
            status="tracing", lots_held=sorted(self.held), orders_pulled=sorted(self.pulled)
        )
        result: CompleteRecallResult = await workflow.execute_activity_method(
            RecallActivities.complete_recall,
            CompleteRecallInput(
                tenant_id=data.tenant_id,
                recall_id=data.recall_id,
                held=self.held,
                pulled=self.pulled,
                picked=self.picked,
                not_held=self.not_held,
            ),
            start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )
        self.state = RecallStatus(
            status="completed", lots_held=sorted(self.held), orders_pulled=sorted(self.pulled)
        )
        return result

    async def _hold(self, data: RecallInput, lot: str) -> HoldRecalledLotResult:
        held: HoldRecalledLotResult = await workflow.execute_activity_method(
            RecallActivities.hold_recalled_lot,
            HoldRecalledLotInput(
                tenant_id=data.tenant_id,
                key=f"{workflow.info().workflow_id}/hold/{lot}",
                sku=data.sku,
                lot=lot,
                reason=f"recall {data.recall_id}: {data.reason}"[:500],
                actor=data.actor,
            ),
            start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )
        if held.not_held is not None:
            self.not_held[lot] = held.not_held
        else:
            self.held[lot] = dict(held.held)
        for number, units in held.pulled_units.items():
            self.pulled[number] = self.pulled.get(number, 0) + units
        for number, units in held.picked_units.items():
            self.picked[number] = self.picked.get(number, 0) + units
        return held

    async def _tell_orders(self, tenant: int, held: HoldRecalledLotResult, lot: str) -> None:
        """Each order whose allocations were pulled asks for the quantity again."""
        for number, allocation_ids in sorted(held.pulled.items()):
            handle = workflow.get_external_workflow_handle(order_workflow_id(tenant, number))
            try:
                await handle.signal(
                    "stock_pulled", StockPulledInput(allocation_ids=allocation_ids, lot=lot)
                )
            except FailureError:
                continue  # the order closed meanwhile: nothing of it waits

    @workflow.query
    def status(self) -> RecallStatus:
        return self.state
