"""Activities of the recall workflow: hold one recalled lot (pulling it from open
allocations), and complete the recall (the report from the ledger, the alert, the
event). Each is idempotent: the hold by its key, the completion by the recall's
status."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.refusals import business
from contracts.recalls import (
    CompleteRecallInput,
    CompleteRecallResult,
    HoldRecalledLotInput,
    HoldRecalledLotResult,
)
from db.recalls import RecallHolds, complete_recall
from db.stock.lot_holds import hold_lot
from db.stock.operation import Caller
from domain.errors import Conflict, DomainError
from domain.stock import HoldLot, PulledStock, pulled_orders


def _units(stock: list[PulledStock]) -> dict[str, int]:
    by_order = pulled_orders(stock)
    quantity = {one.allocation_id: one.quantity for one in stock}
    return {number: sum(quantity[a] for a in ids) for number, ids in by_order.items()}


class RecallActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def hold_recalled_lot(self, data: HoldRecalledLotInput) -> HoldRecalledLotResult:
        """Quarantine the lot everywhere. A lot that cannot be held (already held,
        or reservations still need it) is reported, not retried forever."""
        caller = Caller(data.tenant_id, data.key, data.actor)
        command = HoldLot(sku=data.sku, lot=data.lot, reason=data.reason, status="quarantine")
        try:
            held = await hold_lot(self._sessions, caller, command)
        except Conflict as refusal:
            return HoldRecalledLotResult(not_held=refusal.detail)
        except DomainError as error:
            raise business(error) from error
        return HoldRecalledLotResult(
            held=held.held,
            pulled=pulled_orders(held.pulled),
            pulled_units=_units(held.pulled),
            picked_units=_units(held.picked),
        )

    @activity.defn
    async def complete_recall(self, data: CompleteRecallInput) -> CompleteRecallResult:
        holds = RecallHolds(
            held=data.held, pulled=data.pulled, picked=data.picked, not_held=data.not_held
        )
        try:
            recall = await complete_recall(self._sessions, data.tenant_id, data.recall_id, holds)
        except DomainError as error:
            raise business(error) from error
        return CompleteRecallResult(shipments=len(recall["report"]["shipments"]))
