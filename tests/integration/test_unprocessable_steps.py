"""No poison runs: a step the database refuses for good rejects the order with its
reason and one alert; a step that keeps failing raises one alert and keeps
retrying; a run whose workflow task keeps failing is found by the stuck-runs sweep.
On the dev server with the project's worker and a real Postgres."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.common import TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from contracts.orders import CancelInput
from contracts.sweeps import StuckRunsInput
from db.alerts import list_alerts
from db.models import Alert
from db.refusals import refused_value
from domain.orders import OrderStatus
from settings import Settings
from tests.conftest import unique
from tests.integration.order_helpers import keep_history, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows import search_attributes
from workflows.order.workflow import OrderWorkflow
from workflows.stuck_runs import StuckRunsWorkflow

LEVEL_ZERO = {"reserved": 0, "allocated": 0, "in_transit": 0, "incoming": 0}


async def _alerts(
    sessions: async_sessionmaker[AsyncSession], world: World, kind: str
) -> list[Alert]:
    async with sessions() as session:
        return await list_alerts(
            session, world.tenant_id, open_only=False, kind=kind, before=None, limit=10
        )


async def _until(check: Callable[[], Awaitable[Any]], seconds: float = 30) -> Any:
    for _ in range(int(seconds / 0.2)):
        if found := await check():
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached")


@asynccontextmanager
async def refusing(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    table: str,
    sqlstate: str,
    when: str = "TRUE",
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Postgres refuses this tenant's inserts into `table` (those of rows `when`
    holds for, a condition on NEW) with `sqlstate` (a trigger) until the yielded
    function (or the end of the block) lifts it."""
    name = f"refuse_{uuid.uuid4().hex[:10]}"

    async def run(*statements: str) -> None:
        async with sessions() as session, session.begin():
            for statement in statements:
                await session.execute(text(statement))

    await run(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" RAISE EXCEPTION 'injected refusal' USING ERRCODE = '{sqlstate}'; END $$",
        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW"
        f" WHEN (NEW.tenant_id = {world.tenant_id} AND {when}) EXECUTE FUNCTION {name}()",
    )
    lifted = False

    async def lift() -> None:
        nonlocal lifted
        if not lifted:
            await run(f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()")
            lifted = True

    try:
        yield lift
    finally:
        await lift()


async def test_an_order_whose_customer_the_database_refuses_is_rejected_with_why_and_one_alert(
    world: World,
    dev_env: WorkflowEnvironment,
    dev_worker: Worker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.receive("WIDGET", 5)
    # Started past the API: Postgres refuses a NUL in text.
    order = dataclasses.replace(order_input(world, [("WIDGET", 2)]), customer_id="C\x00D")
    handle = await start(dev_env.client, settings.temporal_task_queue, order)
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.status is OrderStatus.REJECTED
    assert result.cancel_reason == (
        "step record_order failed: the database refused a value:"
        " PostgreSQL text fields cannot contain NUL (0x00) bytes"
    )
    assert await world.level("WIDGET") == {"on_hand": 5, **LEVEL_ZERO}
    [alert] = await _alerts(sessions, world, "activity_failing")
    assert alert.reference_id == handle.id
    assert "record_order" in alert.message and "NUL" in alert.message
    await keep_history(handle, "order_rejected_unrecordable")


async def test_a_step_the_database_refuses_rejects_the_order_and_gives_its_stock_back(
    world: World,
    dev_env: WorkflowEnvironment,
    dev_worker: Worker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.receive("WIDGET", 5)
    async with refusing(sessions, world, "allocations", "22003"):
        handle = await start(
            dev_env.client, settings.temporal_task_queue, order_input(world, [("WIDGET", 3)])
        )
        result = await asyncio.wait_for(handle.result(), 30)
    assert result.status is OrderStatus.REJECTED
    assert result.cancel_reason == (
        "step allocate_reservations failed: the database refused a value:"
        " injected refusal (SQLSTATE 22003)"
    )
    assert [line.canceled for line in result.lines] == [3]
    assert await world.level("WIDGET") == {"on_hand": 5, **LEVEL_ZERO}
    [alert] = await _alerts(sessions, world, "activity_failing")
    assert "allocate_reservations" in alert.message


async def test_a_step_failing_again_and_again_raises_one_alert_and_goes_on_once_fixed(
    world: World, dev_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await world.receive("WIDGET", 5)
    queue = unique("failing")
    async with (
        build_worker(dev_env.client, sessions, queue, alert_after_attempts=2),
        refusing(sessions, world, "allocations", "55P03") as lift,  # lock not available
    ):
        handle = await start(dev_env.client, queue, order_input(world, [("WIDGET", 3)]))
        [alert] = await _until(lambda: _alerts(sessions, world, "activity_failing"))
        assert alert.reference_id == handle.id
        assert "allocate_reservations failed 2 times, still retrying" in alert.message
        await lift()  # the operator fixes the cause: the next attempt succeeds
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
        assert len(await _alerts(sessions, world, "activity_failing")) == 1
        await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="test over"))
    assert [line.allocated for line in view.lines] == [3]


async def test_an_allocation_that_fails_after_the_reservation_allocated_part_loses_nothing(
    world: World, dev_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """order-reserve-and-allocate: the reservation allocates too. When the second
    line's allocation fails there (the whole allocation is undone: one transaction,
    db/stock/steps.py; a worker before that committed the first line's), the
    allocation step runs under the same key, is retried until it goes through, and
    the order holds one allocation per line, no more."""
    await world.receive("WIDGET", 5)
    await world.receive("FABRIC", 5)
    queue = unique("midway")
    fabric = await item_id(sessions, world, "FABRIC")
    async with (
        build_worker(dev_env.client, sessions, queue),
        refusing(sessions, world, "allocations", "55P03", f"NEW.item_id = {fabric}") as lift,
    ):
        order = order_input(world, [("WIDGET", 2), ("FABRIC", 3)])
        handle = await start(dev_env.client, queue, order)
        await _until(lambda: _scheduled(handle, "allocate_reservations"))
        await lift()
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
        async with sessions() as session:
            held = await session.scalars(
                text(
                    "SELECT quantity FROM allocations WHERE tenant_id = :t"
                    " AND reference_id LIKE :n AND quantity > 0 ORDER BY id"
                ),
                {"t": world.tenant_id, "n": f"{order.order_number}/%"},
            )
            assert list(held) == [2, 3]
        await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="test over"))
        await handle.result()  # canceled: everything given back
    assert [line.allocated for line in view.lines] == [2, 3]
    assert await _scheduled(handle, "reserve_lines") == 1
    assert await world.violations() == []
    assert await world.level("WIDGET") == {"on_hand": 5, **LEVEL_ZERO}


@pytest.mark.parametrize(
    ("table", "step"), [("reservations", "reserve_lines"), ("allocations", "allocate_reservations")]
)
async def test_a_step_refused_for_good_at_its_second_line_rejects_the_order_keeping_nothing(
    world: World,
    dev_env: WorkflowEnvironment,
    dev_worker: Worker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    table: str,
    step: str,
) -> None:
    """The second line's reservation (or allocation) is refused for good: the step
    fails and the order is rejected, and the first line's stock is free again, not
    promised to a closed order. The step is one transaction (db/stock/steps.py),
    so nothing of it was kept. (A worker before migrations 0023/0024 committed the
    first line's, which the run never learned of; the compensation gives back what
    the books hold for the order's lines: order-gives-back-by-reference,
    test_give_back.py.)"""
    await world.receive("WIDGET", 5)
    await world.receive("FABRIC", 5)
    fabric = await item_id(sessions, world, "FABRIC")
    async with refusing(sessions, world, table, "22003", f"NEW.item_id = {fabric}"):
        order = order_input(world, [("WIDGET", 2), ("FABRIC", 3)])
        handle = await start(dev_env.client, settings.temporal_task_queue, order)
        result = await asyncio.wait_for(handle.result(), 30)
    assert result.status is OrderStatus.REJECTED
    assert result.cancel_reason == (
        f"step {step} failed: the database refused a value: injected refusal (SQLSTATE 22003)"
    )
    assert await world.level("WIDGET") == {"on_hand": 5, **LEVEL_ZERO}
    assert await world.level("FABRIC") == {"on_hand": 5, **LEVEL_ZERO}
    assert await world.violations() == []
    column = "source_id" if table == "reservations" else "reference_id"
    async with sessions() as session:
        kept = await session.scalar(
            text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t AND {column} LIKE :n"),
            {"t": world.tenant_id, "n": f"{order.order_number}/%"},
        )
    assert kept == 0  # not even the first line's: the step was kept whole or not at all
    await keep_history(handle, f"order_rejected_{table}_given_back")


async def item_id(sessions: async_sessionmaker[AsyncSession], world: World, sku: str) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT id FROM items WHERE tenant_id = :t AND sku = :s"),
            {"t": world.tenant_id, "s": sku},
        )
    return int(found)


async def _scheduled(handle: Any, activity: str) -> int:
    """How many times the run scheduled `activity`."""
    return sum(
        1
        for e in (await handle.fetch_history()).events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity
    )


@workflow.defn(sandboxed=False)
class BrokenWorkflow:
    """Workflow code with a bug: every workflow task fails."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in workflow code")


async def test_a_run_whose_workflow_task_keeps_failing_raises_one_alert(
    world: World,
    dev_env: WorkflowEnvironment,
    dev_worker: Worker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = unique("broken")
    tenant = TypedSearchAttributes(
        search_attributes.pairs([search_attributes.TENANT_ID.value_set(str(world.tenant_id))])
    )
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[BrokenWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await dev_env.client.start_workflow(
            BrokenWorkflow.run, id=unique("broken"), task_queue=queue, search_attributes=tenant
        )
        try:

            async def swept() -> list[Alert]:
                await dev_env.client.execute_workflow(
                    StuckRunsWorkflow.run,
                    StuckRunsInput(),
                    id=unique("stuck-runs"),
                    task_queue=settings.temporal_task_queue,
                )
                return await _alerts(sessions, world, "workflow_task_failing")

            [alert] = await _until(swept, seconds=60)
            again = await dev_env.client.start_workflow(
                StuckRunsWorkflow.run,
                StuckRunsInput(),
                id=unique("stuck-runs"),
                task_queue=settings.temporal_task_queue,
            )
            sweep = await again.result()
        finally:
            await handle.terminate("test over")
    assert alert.reference_id == handle.id
    assert "has failed" in alert.message and "WorkflowTaskFailed" in alert.message
    assert handle.id in [run.workflow_id for run in sweep.alerted]  # raised again: still one
    assert len(await _alerts(sessions, world, "workflow_task_failing")) == 1
    await keep_history(again, "stuck_runs_sweep")


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        ("SELECT CAST(:v AS text)", "PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        ("SELECT CAST(99999 AS smallint)", "smallint out of range (SQLSTATE 22003)"),
        ("SELECT no_such_function()", None),  # 42883: a deploy fixes it
        ("SELECT * FROM no_such_table", None),  # 42P01: a migration not yet run
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '23514'; END $$", "x (SQLSTATE 23514)"),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '23505'; END $$", None),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$", None),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40P01'; END $$", None),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '57014'; END $$", None),
    ],
)
async def test_only_what_no_retry_can_fix_counts_as_refused(
    sessions: async_sessionmaker[AsyncSession], statement: str, refused: str | None
) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with sessions() as session:
            await session.execute(text(statement), {"v": "a\x00b"} if ":v" in statement else {})
    assert refused_value(caught.value) == refused
