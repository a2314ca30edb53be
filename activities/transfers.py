"""Transfer activities: thin, idempotent calls of the stock operations (keys derived
from the workflow id and step), the transfer projection and its alert. Business
refusals become non-retryable ApplicationErrors; everything else is retried."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.refusals import ACTOR, actor_of, business
from contracts.transfers import (
    ReceiveTransferStockInput,
    RecordTransferInput,
    ReservedLine,
    ReserveTransferInput,
    ReserveTransferResult,
    TransferAlertInput,
    TransferReservations,
    TransferView,
)
from db.alerts import NewAlert, raise_alert
from db.stock.operation import Caller, recorded
from db.stock.promising import allocate, release, reserve
from db.stock.transfers import receive_transfer, ship_transfer
from db.transfers import TransferProjection, open_allocations
from domain.errors import DomainError
from domain.stock import (
    AllocateReservation,
    AllocationResult,
    InvalidTransition,
    ReleaseReservation,
    ReserveLine,
    ReserveStock,
)
from domain.transfers import (
    ReceiveTransfer,
    ShipTransfer,
    TransferReceiptLine,
    TransferStockResult,
)

ALERT_KIND = "transfer_in_transit"


class TransferActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._projection = TransferProjection(sessions)

    @activity.defn
    async def record_transfer(self, data: RecordTransferInput) -> None:
        try:
            await self._projection.record(data.transfer, data.workflow_id)
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def project_transfer(self, view: TransferView) -> None:
        await self._projection.update(view)

    @activity.defn
    async def reserve_transfer(self, data: ReserveTransferInput) -> ReserveTransferResult:
        """Reserve every line at the source or nothing (a shortage names every line)."""
        lines = [ReserveLine(data.from_warehouse, x.sku, x.quantity, x.lot) for x in data.lines]
        command = ReserveStock(lines, "transfer", data.transfer_number)
        try:
            result = await reserve(self._sessions, Caller(data.tenant_id, data.key, ACTOR), command)
        except DomainError as error:
            raise business(error) from error
        return ReserveTransferResult(
            reservations=[
                ReservedLine(reservation_id=r.id, sku=r.sku, lot=r.lot, quantity=r.quantity)
                for r in result.reservations
            ]
        )

    @activity.defn
    async def release_transfer(self, data: TransferReservations) -> None:
        """Release what is left of each reservation (nothing left is fine)."""
        for reservation_id in data.reservation_ids:
            caller = Caller(data.tenant_id, f"{data.key}/{reservation_id}", actor_of(data.actor))
            try:
                await release(self._sessions, caller, ReleaseReservation(reservation_id))
            except InvalidTransition:
                continue

    @activity.defn
    async def ship_transfer(self, data: TransferReservations) -> TransferStockResult:
        """Allocate each reservation by the item's strategy, release what could not
        be allocated, and ship what was: source out, in transit. Each step has its
        own key, so a retry replays the steps that committed."""
        caller = Caller(data.tenant_id, f"{data.key}/stock", actor_of(data.actor))
        shipped = await recorded(self._sessions, caller, TransferStockResult)
        if shipped is not None:  # a retry after the stock left: replay it
            return shipped
        for reservation_id in data.reservation_ids:
            await self._allocate(data, reservation_id)
        # what is allocated to these reservations now, by this attempt or an earlier one
        allocation_ids = await open_allocations(self._sessions, data.reservation_ids)
        if not allocation_ids:
            raise ApplicationError(
                "none of the reserved stock is at a location it can be taken from",
                type="NothingToShip",
                non_retryable=True,
            )
        await self.release_transfer(
            TransferReservations(
                tenant_id=data.tenant_id,
                key=f"{data.key}/release",
                transfer_number=data.transfer_number,
                reservation_ids=data.reservation_ids,
                actor=data.actor,
            )
        )
        try:
            return await ship_transfer(
                self._sessions, caller, ShipTransfer(data.transfer_number, allocation_ids)
            )
        except DomainError as error:
            raise business(error) from error

    async def _allocate(self, data: TransferReservations, reservation_id: int) -> AllocationResult:
        caller = Caller(
            data.tenant_id, f"{data.key}/allocate/{reservation_id}", actor_of(data.actor)
        )
        done = await recorded(self._sessions, caller, AllocationResult)
        if done is not None:
            return done
        command = AllocateReservation(
            reservation_id, reference_type="transfer", reference_id=data.transfer_number
        )
        try:
            return await allocate(self._sessions, caller, command)
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def receive_transfer(self, data: ReceiveTransferStockInput) -> TransferStockResult:
        lines = [
            TransferReceiptLine(x.sku, x.lot, x.received, x.reason, x.serials) for x in data.lines
        ]
        command = ReceiveTransfer(data.transfer_number, data.location, lines)
        try:
            return await receive_transfer(
                self._sessions, Caller(data.tenant_id, data.key, actor_of(data.actor)), command
            )
        except DomainError as error:
            raise business(error) from error

    @activity.defn
    async def raise_transfer_alert(self, data: TransferAlertInput) -> int:
        """Once per transfer: raising it again finds the first alert."""
        return await raise_alert(
            self._sessions,
            NewAlert(
                tenant_id=data.tenant_id,
                key=f"{ALERT_KIND}:{data.transfer_number}",
                kind=ALERT_KIND,
                reference_type="transfer",
                reference_id=data.transfer_number,
                message=data.message,
            ),
        )
