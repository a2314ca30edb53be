"""Purchase order activities: thin, idempotent calls of the PO stock operations
(keys derived from the workflow id and step) and its late_po alert. Business
refusals become non-retryable ApplicationErrors; everything else is retried."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.refusals import actor_of, business
from contracts.purchasing import (
    LateAlertInput,
    PoStepInput,
    PurchaseOrderView,
    RecordPurchaseOrderInput,
    late_alert_key,
)
from db.alerts import NewAlert, raise_alert, resolve_alerts
from db.stock import purchasing
from db.stock.operation import Caller
from domain.errors import DomainError

ALERT_KIND = "late_po"


class PurchaseOrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def _caller(self, data: PoStepInput) -> Caller:
        return Caller(data.tenant_id, data.key, actor_of(data.actor))

    @activity.defn
    async def record_purchase_order(self, data: RecordPurchaseOrderInput) -> PurchaseOrderView:
        order = data.order
        caller = Caller(order.tenant_id, f"{data.workflow_id}/record", actor_of(order.actor))
        try:
            return await purchasing.record_purchase_order(self._sessions, caller, order)
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def receive_purchase_order(self, data: PoStepInput) -> PurchaseOrderView:
        assert data.receive is not None
        try:
            return await purchasing.receive_purchase_order(
                self._sessions,
                self._caller(data),
                data.po_number,
                data.receive,
                Decimal(data.tolerance),
            )
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def close_purchase_order(self, data: PoStepInput) -> PurchaseOrderView:
        assert data.close is not None
        try:
            return await purchasing.close_purchase_order(
                self._sessions, self._caller(data), data.po_number, data.close
            )
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def reschedule_purchase_order(self, data: PoStepInput) -> PurchaseOrderView:
        assert data.reschedule is not None
        try:
            return await purchasing.reschedule_purchase_order(
                self._sessions, self._caller(data), data.po_number, data.reschedule
            )
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def late_po_alert(self, data: LateAlertInput) -> None:
        """Raise the PO's late_po alert (reopened if it was resolved) or, with no
        message, resolve it: one alert per PO."""
        key = late_alert_key(data.po_number)
        if not data.message:
            await resolve_alerts(self._sessions, data.tenant_id, [key], data.resolution)
            return
        await raise_alert(
            self._sessions,
            NewAlert(
                tenant_id=data.tenant_id,
                key=key,
                kind=ALERT_KIND,
                reference_type="purchase_order",
                reference_id=data.po_number,
                message=data.message,
            ),
            reopen=True,
        )
