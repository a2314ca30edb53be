"""`oms dev` keeps its stack up: a part that is killed is started again and the stack
serves new orders; a part that keeps dying ends the stack with a message naming it.

The tests share one stack (starting one takes most of their time) and run in this
order: each of the first three leaves it serving, the last one ends it. Run alone,
each starts its own."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from tests.conftest import unique
from tests.e2e.test_processes import Output, _dev_settings, _dev_stack, _stack_processes
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


@dataclass(frozen=True, kw_only=True)
class Stack:
    process: subprocess.Popen[str]
    output: Output
    env: dict[str, str]
    data_dir: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['OMS_API_PORT']}"

    def key(self, role: str) -> dict[str, str]:
        keys = json.loads((self.data_dir / "demo-keys.json").read_text())
        return {"Authorization": f"Bearer {keys[role]}"}

    def pid(self, part: str) -> int:
        """From the registry `oms dev` keeps, or Postgres' own pid file."""
        if part == "postgres":
            return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        registry = json.loads((self.data_dir / "processes.json").read_text())
        return int(registry[part][0])

    def kill(self, part: str, how: str) -> None:
        """SIGKILL a part; return once `oms dev` said it died (`how`) and restarted it."""
        before = self.pid(part)
        os.kill(before, signal.SIGKILL)
        died = self.output.wait_for(f"{part:<10} {how}", timeout=30)
        assert died.endswith("; restart 1 in 0.5s\n"), died  # each part dies once here
        self.output.wait_for(f"{part:<10} restarted (pid ", timeout=60)
        assert self.pid(part) != before


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("supervised") / "stack"
    # each part dies once in the first tests; the API's second death ends the stack
    env = {**_dev_settings(data_dir), "OMS_DEV_RESTART_LIMIT": "2"}
    with _dev_stack(env) as (process, output, _keys):
        yield Stack(process=process, output=output, env=env, data_dir=data_dir)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    assert _stack_processes(data_dir) == []


def _place_order_until_allocated(stack: Stack, seconds: float = 90) -> None:
    """POST an order (again after a 5xx: a part may still be coming back; the same
    number makes it one order) and wait until it is allocated."""
    number = unique("SO")
    line = {"line_id": "1", "sku": "MUG", "quantity": 1, "unit_price": 4.5}
    body = {"order_number": number, "customer_id": "C-1", "currency": "EUR", "lines": [line]}
    deadline = time.monotonic() + seconds
    status, seen = "", ""
    with httpx.Client(base_url=stack.api, timeout=30) as api:
        while time.monotonic() < deadline and status != "allocated":
            if not status:
                created = api.post("/v1/orders", json=body, headers=stack.key("oms"))
                assert created.status_code in (200, 201) or created.status_code >= 500, created.text
                seen = f"POST {created.status_code} {created.text}"
                if created.status_code < 500:
                    status = created.json()["status"]
            else:
                got = api.get(f"/v1/orders/{number}", headers=stack.key("viewer"))
                status, seen = got.json().get("status", status), got.text
            time.sleep(0.2)
    assert status == "allocated", f"order {number} not allocated; last answer: {seen}"


def test_a_killed_worker_is_restarted_and_a_new_order_is_allocated(stack: Stack) -> None:
    stack.kill("worker", "killed by SIGKILL")
    _place_order_until_allocated(stack)


async def test_a_killed_temporal_is_restarted_with_its_search_attributes_and_serves_orders(
    stack: Stack,
) -> None:
    stack.kill("temporal", "killed by SIGKILL")
    client = await Client.connect(stack.env["OMS_TEMPORAL_ADDRESS"])
    declared = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert {key.name for key in SEARCH_ATTRIBUTES} <= set(declared.custom_attributes)
    _place_order_until_allocated(stack)


def test_a_killed_postgres_is_restarted_and_readiness_comes_back(stack: Stack) -> None:
    stack.kill("postgres", "killed by SIGKILL")
    deadline, ready = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        ready = httpx.get(f"{stack.api}/readyz", timeout=10)
        if ready.status_code == 200:
            break
        time.sleep(0.2)
    assert ready is not None and ready.status_code == 200, ready and ready.text
    _place_order_until_allocated(stack)


def test_an_api_that_keeps_dying_stops_the_stack_with_a_message_naming_it(stack: Stack) -> None:
    port = int(stack.env["OMS_API_PORT"])
    with socket.socket() as squatter:
        os.kill(stack.pid("api"), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while True:  # take the API's port before `oms dev` starts it again
            try:
                squatter.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, "the killed API never freed its port"
                time.sleep(0.01)
        squatter.listen()
        stack.output.wait_for("stopped    postgres", timeout=120)
        assert stack.process.wait(timeout=30) == 1
    text = stack.output.drain()
    assert re.search(r"api +died 2 times within 60s, last exited with code \d+; giving up", text)
    assert "address already in use" in text  # uvicorn's own words, above
    assert "stopped    api (it was down)" in text
    for part in ("worker", "temporal", "postgres"):
        assert f"stopped    {part}\n" in text
