"""Lot holds and recalls against real Postgres and the time-skipping Temporal
server: a recall quarantines a lot two open orders had allocated, both re-allocate
from another lot, and the report lists the customer who received the lot; a hold
with no other lot leaves the order backordered until stock of another lot comes;
bad holds and recalls change nothing. Every test ends with the invariants checked
(the `world` fixture)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.orders import (
    OrderView,
    PickInput,
    PickLineInput,
    RequestInput,
    StockArrivedInput,
    StockPulledInput,
)
from contracts.recalls import RecallInput
from db.recalls import NewRecall, create_recall, get_recall
from db.stock.lot_holds import hold_lot
from domain.errors import Conflict, InvalidInput, NotFound
from domain.orders import OrderStatus
from domain.stock import HoldLot, pulled_orders
from tests.conftest import unique
from tests.integration.order_helpers import (
    fulfil,
    keep_history,
    order_input,
    pack_and_ship,
    start,
    wait_for,
)
from tests.integration.stock_world import World
from worker import build_worker
from workflows.order.workflow import OrderWorkflow
from workflows.recall import RecallWorkflow

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("recalls")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


def _lots(view: OrderView) -> list[str]:
    return sorted(
        a.lot or ""
        for r in view.fulfillment_requests
        for a in r.allocations
        if a.quantity > 0 and a.status == "allocated"
    )


async def _allocated_from(
    env: WorkflowEnvironment, queue: str, world: World, quantity: int, customer: str
) -> WorkflowHandle[OrderWorkflow, OrderView]:
    order = dataclasses.replace(order_input(world, [("YOGURT", quantity)]), customer_id=customer)
    handle = await start(env.client, queue, order)
    await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    return handle


async def _ledger(world: World) -> int:
    return await world.ledger_size()


async def _lot_status(world: World, lot: str) -> str:
    async with world.sessions() as session:
        return str(
            await session.scalar(
                text("SELECT status FROM lots WHERE tenant_id = :t AND lot_number = :l"),
                {"t": world.tenant_id, "l": lot},
            )
        )


async def test_a_recall_holds_a_lot_two_open_orders_had_allocated_and_both_reallocate_from_another_lot(  # noqa: E501
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = time_skipping_env
    await world.receive("YOGURT", 10, lot="A", expires_on=TODAY + timedelta(days=10))
    await world.receive("YOGURT", 10, lot="B", expires_on=TODAY + timedelta(days=40))
    handles: list[WorkflowHandle[Any, Any]] = []
    try:
        # A customer received lot A (FEFO takes the earliest expiry first).
        first = await _allocated_from(env, task_queue, world, 2, "C-RECEIVED")
        handles.append(first)
        assert _lots(await first.query(OrderWorkflow.status)) == ["A"]
        await fulfil(first, await first.query(OrderWorkflow.status))
        assert (await first.result()).status is OrderStatus.SHIPPED
        # Two open orders hold lot A.
        second = await _allocated_from(env, task_queue, world, 3, "C-2")
        third = await _allocated_from(env, task_queue, world, 4, "C-3")
        handles += [second, third]
        for handle in (second, third):
            assert _lots(await handle.query(OrderWorkflow.status)) == ["A"]

        new = NewRecall(
            tenant_id=world.tenant_id,
            sku="YOGURT",
            lots=["A"],
            reason="supplier: contaminated batch",
            idempotency_key=unique("recall"),
            actor="test",
        )
        recall, created = await create_recall(world.sessions, new)
        assert created
        run = await env.client.start_workflow(
            RecallWorkflow.run,
            RecallInput(
                tenant_id=world.tenant_id,
                recall_id=recall["id"],
                sku="YOGURT",
                lots=["A"],
                reason=new.reason,
                actor="test",
            ),
            id=recall["workflow_id"],
            task_queue=task_queue,
        )
        result = await run.result()
        assert result.shipments == 1
        assert (await run.query(RecallWorkflow.status)).status == "completed"
        await keep_history(run, "recall_two_orders_pulled")

        for handle in (second, third):
            view = await wait_for(
                handle, lambda v: v.status is OrderStatus.ALLOCATED and _lots(v) == ["B"]
            )
            assert view.fulfillment_requests[0].status == "canceled"
        report = (await get_recall(world.sessions, world.tenant_id, recall["id"]))["report"]
        assert report["held"] == {"A": {"WH1": 8}}  # 10 received, 2 shipped
        assert report["pulled"] == {
            second.id.rpartition(":")[2]: 3,
            third.id.rpartition(":")[2]: 4,
        }
        [shipment] = report["shipments"]
        assert (shipment["customer_id"], shipment["lot"], shipment["quantity"]) == (
            "C-RECEIVED",
            "A",
            2,
        )
        assert shipment["order_number"] == first.id.rpartition(":")[2]
        assert await _lot_status(world, "A") == "quarantine"
        assert await world.held("YOGURT") == 8
        assert (await world.level("YOGURT"))["allocated"] == 7
        async with world.sessions() as session:
            alert = await session.scalar(
                text("SELECT message FROM alerts WHERE tenant_id = :t AND kind = 'recall'"),
                {"t": world.tenant_id},
            )
            kinds = list(
                await session.scalars(
                    text(
                        "SELECT type FROM events WHERE tenant_id = :t AND type LIKE 'recall.%'"
                        " ORDER BY id"
                    ),
                    {"t": world.tenant_id},
                )
            )
        assert alert is not None and "C-RECEIVED" in alert
        assert kinds == ["recall.started", "recall.completed"]
    finally:
        for handle in handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


async def test_a_hold_with_no_other_lot_leaves_the_order_backordered_until_another_lot_arrives(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = time_skipping_env
    await world.receive("YOGURT", 5, lot="ONLY", expires_on=TODAY + timedelta(days=10))
    handle = await _allocated_from(env, task_queue, world, 3, "C-9")
    try:
        command = HoldLot(sku="YOGURT", lot="ONLY", reason="mould found", status="hold")
        held = await hold_lot(world.sessions, world.caller(), command)
        assert held.held == {"WH1": 5} and [p.quantity for p in held.pulled] == [3]
        number = handle.id.rpartition(":")[2]
        ids = pulled_orders(held.pulled)[number]
        await handle.signal(OrderWorkflow.stock_pulled, StockPulledInput(allocation_ids=ids))
        await handle.signal(OrderWorkflow.stock_pulled, StockPulledInput(allocation_ids=ids))
        view = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
        assert view.lines[0].backordered == 3 and _lots(view) == []
        assert (await world.level("YOGURT"))["allocated"] == 0
        assert await world.held("YOGURT") == 5

        await world.receive("YOGURT", 4, lot="FRESH", expires_on=TODAY + timedelta(days=30))
        await handle.signal(OrderWorkflow.stock_arrived, _arrived())
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
        assert _lots(view) == ["FRESH"] and view.lines[0].allocated == 3
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test over")


def _arrived() -> StockArrivedInput:
    return StockArrivedInput(sku="YOGURT")


async def test_bad_holds_and_recalls_change_nothing(world: World) -> None:
    await world.receive("YOGURT", 5, lot="GOOD", expires_on=TODAY + timedelta(days=10))
    ledger, level = await _ledger(world), await world.level("YOGURT")

    def hold(lot: str, reason: str = "broken seal", status: str = "hold") -> Any:
        command = HoldLot(sku="YOGURT", lot=lot, reason=reason, status=status)
        return hold_lot(world.sessions, world.caller(), command)

    with pytest.raises(NotFound) as unknown:
        await hold("NOPE")
    assert unknown.value.field == "lot"
    with pytest.raises(InvalidInput) as blank:
        await hold("GOOD", reason=" ")
    assert blank.value.field == "reason"
    with pytest.raises(InvalidInput) as status:
        await hold("GOOD", status="expired")
    assert status.value.field == "status"
    await hold("GOOD")
    with pytest.raises(Conflict) as again:
        await hold("GOOD", reason="twice")
    assert again.value.field == "lot"
    assert await world.held("YOGURT") == 5  # held once

    recall = NewRecall(
        tenant_id=world.tenant_id,
        sku="YOGURT",
        lots=[],
        reason="bad batch",
        idempotency_key=unique("recall"),
        actor="test",
    )
    with pytest.raises(InvalidInput) as empty:
        await create_recall(world.sessions, recall)
    assert empty.value.field == "lots"
    with pytest.raises(InvalidInput) as missing:
        await create_recall(world.sessions, dataclasses.replace(recall, lots=["GOOD", "NOPE"]))
    assert missing.value.field == "lots.1"
    async with world.sessions() as session:
        recalls = await session.scalar(
            text("SELECT count(*) FROM recalls WHERE tenant_id = :t"), {"t": world.tenant_id}
        )
    assert recalls == 0
    assert await _ledger(world) == ledger
    assert (await world.level("YOGURT")) == level


async def test_a_hold_waits_while_units_of_the_lot_are_picked_and_changes_nothing(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A lot's held stock is its whole on hand: units picked for an order (at staging)
    would count twice, so the hold is refused naming the order until they ship."""
    await world.receive("YOGURT", 10, lot="P", expires_on=TODAY + timedelta(days=10))
    handle = await _allocated_from(time_skipping_env, task_queue, world, 3, "C-PICKED")
    try:
        view = await handle.query(OrderWorkflow.status)
        request = view.fulfillment_requests[0]
        await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
        picks = [PickLineInput(line_id=x.line_id, quantity=x.quantity) for x in request.lines]
        view = await handle.execute_update(
            OrderWorkflow.pick, PickInput(request_id=request.id, lines=picks)
        )
        ledger, level = await _ledger(world), await world.level("YOGURT")
        command = HoldLot(sku="YOGURT", lot="P", reason="broken seal", status="quarantine")
        with pytest.raises(Conflict) as refused:
            await hold_lot(world.sessions, world.caller(), command)
        assert refused.value.field == "lot"
        assert "picked for order" in refused.value.detail
        assert await _lot_status(world, "P") == "available"
        assert (await _ledger(world), await world.level("YOGURT")) == (ledger, level)
        assert await world.held("YOGURT") == 0

        await pack_and_ship(handle, view, request.id)  # the 3 picked ship
        assert (await handle.result()).status is OrderStatus.SHIPPED
        held = await hold_lot(world.sessions, world.caller(), command)
        assert (held.held, held.pulled) == ({"WH1": 7}, [])
        assert await world.held("YOGURT") == 7
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate()
