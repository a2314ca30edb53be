"""OMS_WORKFLOW_SANDBOX: the worker runs workflow code in the SDK's sandbox, or
without it. Without it an order still goes its whole way; with it a call workflow
code must not make (the wall clock) fails the workflow task, without it the call
goes through — the guard the setting trades for CPU, and why the tests keep it on."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from domain.orders import OrderStatus
from settings import Settings
from tests.conftest import unique
from tests.integration.clock_probe import ClockProbe
from tests.integration.order_helpers import fulfil, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker, workflow_runner


async def test_an_order_ships_on_a_worker_without_the_sandbox(
    world: World,
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.receive("WIDGET", 10)
    queue = unique("unsandboxed")
    async with build_worker(time_skipping_env.client, sessions, queue, sandboxed=False):
        handle = await start(time_skipping_env.client, queue, order_input(world, [("WIDGET", 3)]))
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
        await fulfil(handle, view)
        result = await handle.result()
    assert result.status is OrderStatus.SHIPPED
    assert [line.shipped for line in result.lines] == [3]
    assert (await world.level("WIDGET"))["on_hand"] == 7


async def _task_failures(handle: WorkflowHandle[ClockProbe, str]) -> list[str]:
    """The messages of the run's failed workflow tasks, once there is one (10 s at most)."""
    for _ in range(200):
        failures = [
            event.workflow_task_failed_event_attributes.failure.message
            async for event in handle.fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]
        if failures:
            return failures
        await asyncio.sleep(0.05)
    return []


async def test_the_sandbox_stops_a_clock_read_that_runs_without_it(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    for sandboxed in (True, False):
        queue = unique("clock")
        worker = Worker(
            client,
            task_queue=queue,
            workflows=[ClockProbe],
            workflow_runner=workflow_runner(sandboxed),
        )
        async with worker:
            handle = await client.start_workflow(
                ClockProbe.run, id=f"clock-{uuid.uuid4().hex}", task_queue=queue
            )
            if sandboxed:
                failures = await _task_failures(handle)
                assert failures and "datetime.datetime.now" in failures[0], failures
                await handle.terminate("the probe has shown what it shows")
            else:
                assert await handle.result()  # the clock, read


async def test_the_worker_runs_workflows_sandboxed_unless_told_not_to(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = time_skipping_env.client

    def runner(worker: Worker) -> object:
        return worker.config()["workflow_runner"]

    def built(sandboxed: bool) -> Worker:
        return build_worker(client, sessions, unique("runner"), sandboxed=sandboxed)

    default = build_worker(client, sessions, unique("runner"))
    assert isinstance(runner(default), SandboxedWorkflowRunner)  # the tests' and the default
    assert isinstance(runner(built(False)), UnsandboxedWorkflowRunner)
    assert Settings.model_fields["workflow_sandbox"].default is True  # OMS_WORKFLOW_SANDBOX
