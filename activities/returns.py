"""Return activities: the receipt (one idempotent stock transaction), the
projection, and finding the backordered orders restocked goods can wake."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.refusals import actor_of, business
from contracts.returns import ProjectReturnInput, ReceiveReturnInput, ReceiveReturnResult
from db.models import Item
from db.returns import project_return
from db.stock.operation import Caller
from db.stock.returns import receive_return
from domain.errors import DomainError
from domain.returns import Disposition
from domain.stock import ReceiveReturn, ReturnReceiptLine


class ReturnActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def receive_return_stock(self, data: ReceiveReturnInput) -> ReceiveReturnResult:
        skus = {line.line_id: line.sku for line in data.order.lines}
        command = ReceiveReturn(
            data.order.return_id,
            data.order.rma_number,
            data.receipt.warehouse,
            data.receipt.location,
            [
                ReturnReceiptLine(
                    x.line_id,
                    skus[x.line_id],
                    x.received,
                    x.accepted,
                    x.disposition.value,
                    x.lot,
                    x.serials,
                )
                for x in data.receipt.lines
            ],
        )
        try:
            result = await receive_return(
                self._sessions,
                Caller(data.order.tenant_id, data.key, actor_of(data.receipt.actor)),
                command,
            )
        except DomainError as error:
            raise business(error) from error
        restocked = {
            skus[x.line_id]
            for x in data.receipt.lines
            if x.disposition is Disposition.RESTOCK and x.accepted > 0
        }
        async with self._sessions() as session:
            inspected = set(
                await session.scalars(
                    select(Item.sku).where(
                        Item.tenant_id == data.order.tenant_id,
                        Item.sku.in_(restocked),
                        Item.requires_inspection,
                    )
                )
            )
        return ReceiveReturnResult(
            movements=len(result.movements),
            sellable_skus=sorted(restocked - inspected),
            lots=result.lots,
        )

    @activity.defn
    async def project_return(self, data: ProjectReturnInput) -> None:
        view = data.view
        refund = None
        if view.refund_amount is not None:
            refund = (Decimal(view.refund_amount), view.refund_reason)
        await project_return(
            self._sessions,
            view.tenant_id,
            view.rma_number,
            view.status,
            view.version,
            asdict(view)
            | {
                "status": view.status.value,
                "lines": [
                    asdict(x) | {"disposition": x.disposition.value if x.disposition else None}
                    for x in view.lines
                ],
            },
            refund,
        )
