"""The processes as an operator runs them: `python -m worker` and `oms dev`."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import psutil
import pytest
from alembic.script import ScriptDirectory
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from cli.embedded import EmbeddedPostgres, free_port
from db.migrate import alembic_config, head_revision, upgrade
from settings import env_var_names
from tests.conftest import unique
from tests.integration.stock_world import World
from workflows.stack_check import StackCheckInput, StackCheckWorkflow


class Output:
    """Lines of a child's stdout, read on a thread so waits can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not seen; output:\n{''.join(self.lines)}")

    def drain(self) -> str:
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return "".join(self.lines)


def _clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in env_var_names()}
    return {**env, **overrides, "PYTHONUNBUFFERED": "1"}


def _start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], Output]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, Output(process)


@contextmanager
def _reaped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """`process`, killed when the block ends with it still running (a wait or an
    assertion failed): no worker of a failed test polls on."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def _has_poller(env: WorkflowEnvironment, task_queue: str) -> bool:
    described = await env.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=env.client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(described.pollers) > 0


async def test_worker_process_serves_workflows_and_exits_0_on_sigterm(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    settings_env = _clean_env(
        OMS_DATABASE_URL=database_url,
        OMS_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        OMS_TEMPORAL_TASK_QUEUE=unique("worker-proc"),
    )
    task_queue = settings_env["OMS_TEMPORAL_TASK_QUEUE"]
    process, output = _start([sys.executable, "-m", "worker"], settings_env)
    try:
        output.wait_for("worker polling task queue")
        result = await dev_env.client.execute_workflow(
            StackCheckWorkflow.run,
            StackCheckInput(requested_by="worker test"),
            id=unique("stack-check"),
            task_queue=task_queue,
        )
        assert result.worker_reached_database
        assert await _has_poller(dev_env, task_queue)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        output.wait_for("worker stopped", timeout=10)
    finally:
        if process.poll() is None:
            process.kill()


def _worker_env(dev_env: WorkflowEnvironment, database_url: str, task_queue: str) -> dict[str, str]:
    return _clean_env(
        OMS_DATABASE_URL=database_url,
        OMS_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        OMS_TEMPORAL_TASK_QUEUE=task_queue,
        OMS_WORKER_METRICS_PORT=str(free_port()),
        OMS_TEMPORAL_METRICS_PORT=str(free_port()),
    )


async def test_a_worker_on_a_schema_behind_its_code_waits_for_oms_migrate(
    dev_env: WorkflowEnvironment, postgres: EmbeddedPostgres
) -> None:
    """Started before `oms migrate` (a deploy's new workers beside its migration job),
    a worker would run steps on functions and columns that are not there yet and
    fail them until the migration lands: it says what is missing, does not poll, and
    polls once the schema is at its head."""
    name = f"oms_behind_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    url = postgres.url(name)
    head = head_revision()
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(head).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(upgrade, url, previous)
    task_queue = unique("worker-schema")
    process, output = _start(
        [sys.executable, "-m", "worker"], _worker_env(dev_env, url, task_queue)
    )
    with _reaped(process):
        output.wait_for(f"not polling yet: schema at {previous}, code expects {head}")
        await asyncio.sleep(1)
        assert not await _has_poller(dev_env, task_queue)
        assert "worker polling task queue" not in output.drain()

        await asyncio.to_thread(upgrade, url)
        output.wait_for("worker polling task queue", timeout=30)
        result = await dev_env.client.execute_workflow(
            StackCheckWorkflow.run,
            StackCheckInput(requested_by="schema test"),
            id=unique("stack-check"),
            task_queue=task_queue,
        )
        assert result.database.schema_revision == head
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("empty", "schema not migrated: run `oms migrate`"),
        # it cannot tell whether the schema is behind
        ("not answering", "the schema's revision not read (OperationalError)"),
    ],
)
async def test_a_worker_waiting_for_its_schema_does_not_poll_and_stops_on_sigterm(
    dev_env: WorkflowEnvironment, postgres: EmbeddedPostgres, database: str, says: str
) -> None:
    if database == "empty":
        name = f"oms_unmigrated_{uuid.uuid4().hex[:8]}"
        postgres.ensure_database(name)
        url = postgres.url(name)
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"
    task_queue = unique("worker-schema")
    process, output = _start(
        [sys.executable, "-m", "worker"], _worker_env(dev_env, url, task_queue)
    )
    with _reaped(process):
        output.wait_for(f"not polling yet: {says}")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        output.wait_for("worker stopped", timeout=5)
        assert not await _has_poller(dev_env, task_queue)


# -- oms dev -------------------------------------------------------------------------


def _dev_settings(data_dir: Path) -> dict[str, str]:
    return _clean_env(
        OMS_DATA_DIR=str(data_dir),
        OMS_API_PORT=str(free_port()),
        OMS_POSTGRES_PORT=str(free_port()),
        OMS_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        OMS_TEMPORAL_UI_PORT=str(free_port()),
    )


def _stack_processes(data_dir: Path) -> list[psutil.Process]:
    """Every process whose command line names this stack's data directory or was
    started with its environment."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.info["environ"] or {}
        except psutil.Error:
            continue
        if str(data_dir) in cmdline or environ.get("OMS_DATA_DIR") == str(data_dir):
            found.append(process)
    return found


@contextmanager
def _dev_stack(
    env: dict[str, str],
) -> Iterator[tuple[subprocess.Popen[str], Output, dict[str, str]]]:
    process, output = _start([sys.executable, "-m", "cli.main", "dev"], env)
    try:
        output.wait_for("The stack is up")
        banner = output.wait_for("viewer ")
        keys = {"viewer": banner.split()[-1]}
        yield process, output, keys
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _assert_serving(env: dict[str, str], viewer_key: str) -> None:
    api = f"http://127.0.0.1:{env['OMS_API_PORT']}"
    ready = httpx.get(f"{api}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    me = httpx.get(f"{api}/v1/me", headers={"Authorization": f"Bearer {viewer_key}"}, timeout=10)
    assert me.json()["tenant"] == "demo"
    ui = httpx.get(f"http://127.0.0.1:{env['OMS_TEMPORAL_UI_PORT']}/", timeout=10)
    assert ui.status_code == 200


def test_oms_dev_serves_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "stack"
    env = _dev_settings(data_dir)
    with _dev_stack(env) as (process, output, keys):
        _assert_serving(env, keys["viewer"])
        children = _stack_processes(data_dir)
        assert len(children) >= 4  # postgres, temporal, worker, api (+ postgres helpers)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    text = output.drain()
    for part in ("api", "worker", "temporal", "postgres"):
        assert f"stopped    {part}\n" in text, text
    assert "exited with" not in text
    time.sleep(0.5)
    assert [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert _stack_processes(data_dir) == []


def test_oms_dev_after_a_kill_stops_the_leftovers_and_keeps_data_and_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "stack"
    env = _dev_settings(data_dir)
    with _dev_stack(env) as (process, _output, first_keys):
        process.kill()  # SIGKILL: no chance to stop postgres
        process.wait(timeout=10)
    time.sleep(1)
    postgres_left = [p for p in _stack_processes(data_dir) if "postgres" in p.name()]
    assert postgres_left, "postgres should outlive a SIGKILLed oms dev"

    with _dev_stack(env) as (process, output, second_keys):
        assert re.search(r"stopping postgres \(pid \d+\) left over", "".join(output.lines))
        assert second_keys == first_keys  # same database, same demo keys
        _assert_serving(env, second_keys["viewer"])
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    assert _stack_processes(data_dir) == []


async def test_schedules_are_created_once_and_updated_in_place(
    dev_env: WorkflowEnvironment,
) -> None:
    from temporalio.client import ScheduleActionStartWorkflow

    from workflows.schedules import (
        BACKORDER_WAKEUP,
        INVENTORY_SCAN,
        LOT_EXPIRY,
        RESERVATION_EXPIRY,
        STUCK_RUNS,
        ScanPlan,
        apply_schedules,
    )

    task_queue = unique("sched")
    every = [RESERVATION_EXPIRY, BACKORDER_WAKEUP, STUCK_RUNS, LOT_EXPIRY, INVENTORY_SCAN]
    assert await apply_schedules(dev_env.client, task_queue) == every
    assert await apply_schedules(dev_env.client, task_queue) == every
    wakeup = await dev_env.client.get_schedule_handle(BACKORDER_WAKEUP).describe()
    assert isinstance(wakeup.schedule.action, ScheduleActionStartWorkflow)
    assert wakeup.schedule.action.workflow == "BackorderWakeupWorkflow"
    described = await dev_env.client.get_schedule_handle(RESERVATION_EXPIRY).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "ReservationExpiryWorkflow"
    assert action.task_queue == task_queue
    assert [i.every for i in described.schedule.spec.intervals] == [timedelta(minutes=1)]
    lots = (await dev_env.client.get_schedule_handle(LOT_EXPIRY).describe()).schedule
    assert isinstance(lots.action, ScheduleActionStartWorkflow)
    assert lots.action.workflow == "LotExpiryWorkflow"
    assert lots.action.args and "schedule:lot-expiry" in str(lots.action.args[0])
    # the inventory scan runs as often as configured (OMS_INVENTORY_SCAN_MINUTES)
    await apply_schedules(dev_env.client, task_queue, ScanPlan(minutes=7))
    scan = (await dev_env.client.get_schedule_handle(INVENTORY_SCAN).describe()).schedule
    assert isinstance(scan.action, ScheduleActionStartWorkflow)
    assert scan.action.workflow == "InventoryScansWorkflow"
    assert [i.every for i in scan.spec.intervals] == [timedelta(minutes=7)]


async def test_a_worker_killed_mid_saga_is_replaced_and_the_order_has_one_effect(
    dev_env: WorkflowEnvironment, database_url: str, world: World
) -> None:
    from sqlalchemy import text

    from contracts.orders import OrderView
    from tests.integration.order_helpers import fulfil, order_input, start, wait_for

    await world.receive("WIDGET", 10)
    task_queue = unique("kill")
    env = _clean_env(
        OMS_DATABASE_URL=database_url,
        OMS_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        OMS_TEMPORAL_TASK_QUEUE=task_queue,
    )
    first, output = _start([sys.executable, "-m", "worker"], env)
    with _reaped(first):
        output.wait_for("worker polling task queue")
        order = order_input(world, [("WIDGET", 4)])
        handle = await start(dev_env.client, task_queue, order)
        await asyncio.sleep(0.3)  # somewhere in recording, reserving or allocating
        first.kill()
        first.wait(timeout=10)

    second, output = _start([sys.executable, "-m", "worker"], env)
    with _reaped(second):
        try:
            output.wait_for("worker polling task queue")
            view: OrderView = await wait_for(handle, lambda v: v.status.value == "allocated", 60)
            await fulfil(handle, view)
            result = await handle.result()
            assert result.status.value == "shipped"
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    async with world.sessions() as session:
        reservations = await session.scalar(
            text("SELECT count(*) FROM reservations WHERE tenant_id = :t"), {"t": world.tenant_id}
        )
        shipped = await session.scalar(
            text("SELECT sum(quantity) FROM movements WHERE tenant_id = :t AND type = 'ship'"),
            {"t": world.tenant_id},
        )
    assert (reservations, shipped) == (1, 4)  # one reservation, four units out, once
