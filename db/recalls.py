"""Recalls: the row a recall starts from (its lots checked), and its report: the
lots held, the open orders they were pulled from, and every shipment that carried
them (from the ledger). Quantities in base units; the API shows display units."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.alerts import NewAlert, raise_alert_in
from db.events import record_events
from db.models import Item, Lot, Recall
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import EventType, NewEvent


@dataclass(frozen=True, kw_only=True)
class NewRecall:
    tenant_id: int
    sku: str
    lots: list[str]
    reason: str
    idempotency_key: str
    actor: str


def recall_workflow_id(tenant_id: int, recall_id: int) -> str:
    return f"recall:{tenant_id}:{recall_id}"


def recall_data(recall: Recall, sku: str) -> dict[str, Any]:
    """A recall as events carry it and the API shows it (base units)."""
    return {
        "id": recall.id,
        "sku": sku,
        "lots": list(recall.lots),
        "reason": recall.reason,
        "status": recall.status,
        "workflow_id": recall.workflow_id,
        "actor": recall.actor,
        "report": recall.report or {},
        "created_at": recall.created_at.isoformat(),
        "completed_at": recall.completed_at.isoformat() if recall.completed_at else None,
    }


async def create_recall(
    sessions: async_sessionmaker[AsyncSession], new: NewRecall
) -> tuple[dict[str, Any], bool]:
    """The recall row and its `recall.started` event, in one transaction; (the recall,
    True) when new, (the first, False) for a repeat of its Idempotency-Key. Every lot
    must exist (422 naming `lots.N`); nothing is recorded otherwise."""
    async with sessions() as session, session.begin():
        item = await session.scalar(
            select(Item).where(Item.tenant_id == new.tenant_id, Item.sku == new.sku)
        )
        if item is None:
            raise InvalidInput(f"item {new.sku!r} does not exist", field="sku")
        earlier = await _by_key(session, new.tenant_id, new.idempotency_key)
        if earlier is not None:
            return _repeat(earlier, item, new), False
        await _check_lots(session, item, new.lots)
        if not new.reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        recall = Recall(
            tenant_id=new.tenant_id,
            item_id=item.id,
            lots=list(new.lots),
            reason=new.reason.strip(),
            status="running",
            workflow_id="",
            idempotency_key=new.idempotency_key,
            actor=new.actor,
        )
        session.add(recall)
        try:
            await session.flush()
        except IntegrityError:  # a concurrent twin with the same key won
            raise Conflict("a recall with this Idempotency-Key is being created") from None
        recall.workflow_id = recall_workflow_id(new.tenant_id, recall.id)
        await session.flush()
        await session.refresh(recall)
        data = recall_data(recall, item.sku)
        await record_events(session, [_event(EventType.RECALL_STARTED, new.tenant_id, data)])
        return data, True


async def _by_key(session: AsyncSession, tenant_id: int, key: str) -> Recall | None:
    recall: Recall | None = await session.scalar(
        select(Recall).where(Recall.tenant_id == tenant_id, Recall.idempotency_key == key)
    )
    return recall


def _repeat(earlier: Recall, item: Item, new: NewRecall) -> dict[str, Any]:
    same = (earlier.item_id, list(earlier.lots), earlier.reason) == (
        item.id,
        list(new.lots),
        new.reason.strip(),
    )
    if not same:
        raise Conflict(
            f"Idempotency-Key {new.idempotency_key!r} started another recall; use a new key",
            field="Idempotency-Key",
        )
    return recall_data(earlier, item.sku)


async def _check_lots(session: AsyncSession, item: Item, lots: list[str]) -> None:
    if not lots:
        raise InvalidInput("at least one lot is required", field="lots")
    known = set(
        await session.scalars(
            select(Lot.lot_number).where(Lot.item_id == item.id, Lot.lot_number.in_(lots))
        )
    )
    for n, lot in enumerate(lots):
        if lot in lots[:n]:
            raise InvalidInput(f"lot {lot!r} is listed twice", field=f"lots.{n}")
        if lot not in known:
            raise InvalidInput(f"lot {lot!r} of {item.sku!r} does not exist", field=f"lots.{n}")


def _event(type: EventType, tenant_id: int, data: dict[str, Any]) -> NewEvent:
    return NewEvent(tenant_id=tenant_id, type=type, subject_id=str(data["id"]), data=data)


_SHIPMENTS = text(
    """
    SELECT o.order_number, o.customer_id, o.view -> 'shipping' -> 'ship_to' AS ship_to,
           l.lot_number AS lot, m.quantity, m.created_at AS shipped_at, w.code AS warehouse,
           m.reference_id
    FROM movements m
    JOIN lots l ON l.id = m.lot_id
    JOIN warehouses w ON w.id = m.warehouse_id
    LEFT JOIN orders o ON o.tenant_id = m.tenant_id AND m.reference_type = 'order'
         AND o.order_number = substring(m.reference_id from '^(.*)/[^/]*$')
    WHERE m.tenant_id = :t AND m.item_id = :item AND m.type = 'ship'
      AND l.lot_number = ANY(:lots)
    ORDER BY m.created_at, m.id
    """
)


async def _shipments(session: AsyncSession, recall: Recall) -> list[dict[str, Any]]:
    rows = await session.execute(
        _SHIPMENTS, {"t": recall.tenant_id, "item": recall.item_id, "lots": list(recall.lots)}
    )
    return [
        {
            "order_number": row.order_number or row.reference_id,
            "customer_id": row.customer_id,
            "ship_to": row.ship_to,
            "lot": row.lot,
            "quantity": int(row.quantity),
            "shipped_at": row.shipped_at.isoformat(),
            "warehouse": row.warehouse,
        }
        for row in rows
    ]


@dataclass(frozen=True, kw_only=True)
class RecallHolds:
    """What holding the lots did (base units)."""

    held: dict[str, dict[str, int]]  # lot: warehouse: units held
    pulled: dict[str, int]  # order number: units pulled from its allocations
    picked: dict[str, int]  # order number: units of the lots picked already
    not_held: dict[str, str]  # lot: why it could not be held (already held...)


async def complete_recall(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, recall_id: int, holds: RecallHolds
) -> dict[str, Any]:
    """Store the report, raise the `recall` alert and write `recall.completed`, in one
    transaction; a repeat (a retried activity) returns the stored recall."""
    async with sessions() as session, session.begin():
        recall = await session.scalar(
            select(Recall)
            .where(Recall.tenant_id == tenant_id, Recall.id == recall_id)
            .with_for_update()
        )
        if recall is None:
            raise NotFound(f"recall {recall_id} does not exist", field="id")
        sku = str(await session.scalar(select(Item.sku).where(Item.id == recall.item_id)))
        if recall.status == "completed":
            return recall_data(recall, sku)
        shipments = await _shipments(session, recall)
        recall.report = {**asdict(holds), "shipments": shipments}
        recall.status = "completed"
        recall.completed_at = datetime.now(UTC)
        await session.flush()
        customers = sorted({s["customer_id"] or s["order_number"] for s in shipments})
        await raise_alert_in(
            session,
            NewAlert(
                tenant_id=tenant_id,
                key=f"recall:{recall.id}",
                kind="recall",
                reference_type="recall",
                reference_id=str(recall.id),
                message=_alert_message(sku, recall, customers, holds),
            ),
        )
        data = recall_data(recall, sku)
        await record_events(session, [_event(EventType.RECALL_COMPLETED, tenant_id, data)])
        return data


def _alert_message(sku: str, recall: Recall, customers: list[str], holds: RecallHolds) -> str:
    lots = ", ".join(recall.lots)
    who = (
        f"contact the {len(customers)} customer(s) who received them: {', '.join(customers)}"
        if customers
        else "no shipment carried them"
    )
    stuck = f"; not held: {holds.not_held}" if holds.not_held else ""
    picked = (
        f"; picked goods at staging for orders {sorted(holds.picked)}: stop them"
        if holds.picked
        else ""
    )
    message = f"recall {recall.id} of {sku} lots {lots} ({recall.reason}): {who}{picked}{stuck}"
    return message[:500]


async def get_recall(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, recall_id: int
) -> dict[str, Any]:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Recall, Item.sku)
                .join(Item, Item.id == Recall.item_id)
                .where(Recall.tenant_id == tenant_id, Recall.id == recall_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"recall {recall_id} does not exist", field="id")
    return recall_data(row[0], row[1])


async def list_recalls(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first, by id before `before`."""
    query = (
        select(Recall, Item.sku)
        .join(Item, Item.id == Recall.item_id)
        .where(Recall.tenant_id == tenant_id)
        .order_by(Recall.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Recall.id < before)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [recall_data(recall, sku) for recall, sku in rows]


async def order_states(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, numbers: list[str]
) -> dict[str, tuple[str, list[str]]]:
    """Order number: (its status now, the lots its open allocations hold)."""
    if not numbers:
        return {}
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT order_number, status, view FROM orders"
                " WHERE tenant_id = :t AND order_number = ANY(:n)"
            ),
            {"t": tenant_id, "n": numbers},
        )
        states = {}
        for number, status, view in rows:
            lots = sorted(
                {
                    a["lot"]
                    for r in view.get("fulfillment_requests", [])
                    for a in r.get("allocations", [])
                    if a.get("lot")
                    and a.get("quantity", 0) > 0
                    and a.get("status") in ("allocated", "picked")
                }
            )
            states[number] = (status, lots)
        return states
