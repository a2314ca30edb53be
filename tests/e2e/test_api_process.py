"""`oms api` as an operator runs it: on SIGTERM it stops within its grace period
(OMS_API_SHUTDOWN_GRACE_SECONDS) even while a request is still waiting."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time

import httpx
from temporalio.testing import WorkflowEnvironment

from cli.embedded import free_port, wait_for_port
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.test_processes import _clean_env, _start


def test_the_api_stops_within_its_grace_period_while_a_step_still_waits(
    dev_env: WorkflowEnvironment, database_url: str, tenant: TenantKeys
) -> None:
    port = free_port()
    env = _clean_env(
        OMS_DATABASE_URL=database_url,
        OMS_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        OMS_TEMPORAL_NAMESPACE=dev_env.client.namespace,
        OMS_TEMPORAL_TASK_QUEUE=unique("no-worker"),  # nothing will take the step up
        OMS_UPDATE_TIMEOUT_SECONDS="600",
        OMS_API_SHUTDOWN_GRACE_SECONDS="1",
        OMS_API_PORT=str(port),
    )
    process, output = _start([sys.executable, "-m", "cli.main", "api"], env)
    try:
        wait_for_port(port, 60, process)  # type: ignore[arg-type]
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        sku = unique("SKU")
        item = api.post("/v1/items", json={"sku": sku, "name": "W"}, headers=tenant.auth(Role.WMS))
        assert item.status_code == 201, item.text
        number = unique("SO")
        line = {"line_id": "1", "sku": sku, "quantity": 1, "unit_price": 2}
        order = {"order_number": number, "customer_id": "C-1", "currency": "EUR", "lines": [line]}
        placed = api.post("/v1/orders", json=order, headers=tenant.auth(Role.OMS))
        assert placed.status_code == 201, placed.text

        ended = threading.Event()

        def cancel() -> None:
            with contextlib.suppress(httpx.HTTPError):  # however it ends, it must end
                api.post(
                    f"/v1/orders/{number}/cancel",
                    json={"reason": "r"},
                    headers=tenant.auth(Role.OMS),
                )
            ended.set()

        threading.Thread(target=cancel, daemon=True).start()
        _wait_until_a_cancel_waits(api)
        assert not ended.is_set()

        process.send_signal(signal.SIGTERM)
        # uvicorn ends by re-raising the signal it caught: a clean stop reads -SIGTERM
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        output.wait_for("timeout graceful shutdown exceeded", timeout=10)
        output.wait_for("Application shutdown complete", timeout=10)
        assert ended.wait(10)
    finally:
        if process.poll() is None:
            process.kill()


def _wait_until_a_cancel_waits(api: httpx.Client) -> None:
    """Until the API's metrics show the cancel sent and waiting on its workflow."""
    waiting = 'oms_workflow_updates_waiting{update="cancel"} 1.0'
    for _ in range(300):
        if waiting in api.get("/metrics").text:
            return
        time.sleep(0.1)
    raise AssertionError("the cancel never reached the workflow")
