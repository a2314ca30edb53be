"""The transfer projection the transfer workflows keep (lists, the warehouses'
view of what is on its way), and the figures a transfer's activities read."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.transfers import TransferInput, TransferView
from db.events import record_events
from db.models import Transfer, Warehouse
from db.stock.lookups import Catalogue
from domain.change_events import TransferState, transfer_events
from domain.errors import InvalidInput
from domain.events import NewEvent
from domain.transfers import TransferStatus

TRANSFER_VIEW = TypeAdapter(TransferView)  # a projected transfer's view


async def check_transfer(
    session: AsyncSession, transfer: TransferInput
) -> tuple[Warehouse, Warehouse]:
    """(source, destination), or a refusal of what cannot move: unknown warehouses,
    SKUs or lots, one warehouse to itself."""
    catalogue = Catalogue(session, transfer.tenant_id)
    source = await catalogue.warehouse(transfer.from_warehouse, "from_warehouse")
    target = await catalogue.warehouse(transfer.to_warehouse, "to_warehouse")
    if source.id == target.id:
        raise InvalidInput("a transfer needs two different warehouses", field="to_warehouse")
    for n, line in enumerate(transfer.lines):
        item = await catalogue.item(line.sku, f"lines.{n}.sku")
        if line.lot is not None:
            await catalogue.lot(item, line.lot, f"lines.{n}.lot")
    return source, target


class TransferProjection:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, transfer: TransferInput, workflow_id: str) -> None:
        """The transfer as requested (a repeat changes nothing)."""
        async with self._sessions() as session, session.begin():
            source, target = await check_transfer(session, transfer)
            await session.execute(
                insert(Transfer)
                .values(
                    tenant_id=transfer.tenant_id,
                    transfer_number=transfer.transfer_number,
                    workflow_id=workflow_id,
                    from_warehouse_id=source.id,
                    to_warehouse_id=target.id,
                    status="requested",
                    version=0,
                    view=None,
                )
                .on_conflict_do_nothing(
                    index_elements=[Transfer.tenant_id, Transfer.transfer_number]
                )
            )

    async def update(self, view: TransferView) -> None:
        """Follow the workflow: a newer version replaces the row (with the events the
        change makes), an older is ignored."""
        async with self._sessions() as session, session.begin():
            before = (
                await session.execute(
                    text(
                        "SELECT id, status, version, jsonb_array_length(coalesce(view->'receipts',"
                        " '[]')) AS receipts FROM transfers"
                        " WHERE tenant_id = :t AND transfer_number = :n FOR UPDATE"
                    ),
                    {"t": view.tenant_id, "n": view.transfer_number},
                )
            ).first()
            if before is None or before.version >= view.version:
                return  # an older version (a retried or late write): no change, no event
            data = TRANSFER_VIEW.dump_python(view, mode="json")
            await session.execute(
                text(
                    "UPDATE transfers SET status = :status, version = :version,"
                    " view = CAST(:view AS jsonb), updated_at = now() WHERE id = :id"
                ),
                {
                    "status": view.status.value,
                    "version": view.version,
                    "view": json.dumps(data),
                    "id": before.id,
                },
            )
            was = None
            if before.version > 0:
                was = TransferState(status=TransferStatus(before.status), receipts=before.receipts)
            now = TransferState(status=view.status, receipts=len(view.receipts))
            await record_events(
                session,
                [
                    NewEvent(
                        tenant_id=view.tenant_id,
                        type=t,
                        subject_id=view.transfer_number,
                        data=data,
                    )
                    for t in transfer_events(was, now)
                ],
            )


async def projected_transfer(
    session: AsyncSession, tenant_id: int, transfer_number: str
) -> TransferView | None:
    """The transfer as its workflow last projected it (None before its first publish)."""
    view = await session.scalar(
        select(Transfer.view).where(
            Transfer.tenant_id == tenant_id,
            Transfer.transfer_number == transfer_number,
            Transfer.version > 0,
        )
    )
    return None if view is None else TRANSFER_VIEW.validate_python(view)


async def list_transfers(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: str | None,
    from_warehouse: str | None,
    to_warehouse: str | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, datetime, TransferView]]:
    """(row id, when requested, last projected view) of a tenant's transfers, newest first."""
    query = select(Transfer.id, Transfer.created_at, Transfer.view).where(
        Transfer.tenant_id == tenant_id, Transfer.version > 0
    )
    if status is not None:
        query = query.where(Transfer.status == status)
    for column, code in (
        (Transfer.from_warehouse_id, from_warehouse),
        (Transfer.to_warehouse_id, to_warehouse),
    ):
        if code is not None:
            query = query.where(
                column.in_(
                    select(Warehouse.id).where(
                        Warehouse.tenant_id == tenant_id, Warehouse.code == code
                    )
                )
            )
    if before is not None:
        query = query.where(Transfer.id < before)
    rows = await session.execute(query.order_by(Transfer.id.desc()).limit(limit))
    return [(tid, created, TRANSFER_VIEW.validate_python(view)) for tid, created, view in rows]


async def open_allocations(
    sessions: async_sessionmaker[AsyncSession], reservation_ids: list[int]
) -> list[int]:
    """Allocations of these reservations not yet shipped or released."""
    async with sessions() as session:
        rows = await session.scalars(
            text(
                "SELECT id FROM allocations WHERE reservation_id = ANY(:ids)"
                " AND status = 'allocated' AND quantity > 0 ORDER BY id"
            ),
            {"ids": reservation_ids},
        )
        return list(rows)
