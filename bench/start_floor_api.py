"""A fixed floor of bench/saga.py's start rate: the least an HTTP door that starts a
workflow can do, on the same framework and server as ours, with no business in it.

One FastAPI route, `POST /start`: the JSON body as a plain dict (no model, no key,
no hash, no middleware), and one `start_workflow` with the options our API's start
gives (the order workflow's type by name, an id, the same id policies, a memo of one
64-character value, the same four keyword search attributes) and the body as it came
as its input (ours sends the order as validated, a little larger), then 201 with a
small JSON answer. No worker polls the queue: only the start path is measured.

It is FIXED: it must never follow our API's shape. A leaner POST /v1/orders then
scores higher against it; what it costs apart from a bare start is what any HTTP
door on FastAPI (and, in the bench, its HTTP client on the same cores) costs.

In-process the bench calls `create_app(client, queue)` through httpx's ASGI
transport, as it calls our API; `--deployed` serves it with uvicorn in its own
process, as `oms api` is served: `python -m bench.start_floor_api` with
OMS_TEMPORAL_ADDRESS, OMS_TEMPORAL_TASK_QUEUE, OMS_API_PORT.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from workflows.client import DATA_CONVERTER

WORKFLOW = "OrderWorkflow"  # by name: never run here, no worker polls the queue
HASH = "0" * 64
TENANT = SearchAttributeKey.for_keyword("TenantId")
NUMBER = SearchAttributeKey.for_keyword("OrderNumber")
STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER = SearchAttributeKey.for_keyword("CustomerId")


def create_app(client: Client | None, queue: str) -> FastAPI:
    """The floor's app; with no `client` it connects at startup (from the environment)."""
    connected: dict[str, Client] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        connected["client"] = client or await Client.connect(
            os.environ["OMS_TEMPORAL_ADDRESS"],
            namespace=os.environ.get("OMS_TEMPORAL_NAMESPACE", "default"),
            data_converter=DATA_CONVERTER,
        )
        yield

    app = FastAPI(lifespan=lifespan)
    if client is not None:
        connected["client"] = client

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/start", status_code=201)
    async def start(body: dict[str, Any]) -> dict[str, str]:
        number = str(body["order_number"])
        workflow_id = f"floor:{number}"
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(TENANT, "1"),
                SearchAttributePair(NUMBER, number),
                SearchAttributePair(STATUS, "received"),
                SearchAttributePair(CUSTOMER, str(body["customer_id"])),
            ]
        )
        await connected["client"].start_workflow(
            WORKFLOW,
            body,
            id=workflow_id,
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={"request_hash": HASH},
            search_attributes=attributes,
        )
        return {"workflow_id": workflow_id, "status": "received"}

    return app


if __name__ == "__main__":
    import uvicorn

    from observability.logs import configure_logging
    from settings import Settings

    configure_logging(Settings())  # as `oms api` serves (cli/main.py): its access lines too
    uvicorn.run(
        create_app(None, os.environ["OMS_TEMPORAL_TASK_QUEUE"]),
        host="127.0.0.1",
        port=int(os.environ["OMS_API_PORT"]),
        log_config=None,
    )
