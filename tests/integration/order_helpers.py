"""Running order workflows in tests: start, wait for a state, drive the warehouse."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from contracts.orders import (
    OrderInput,
    OrderLineInput,
    OrderView,
    PackInput,
    PaymentInput,
    PickInput,
    PickLineInput,
    RequestInput,
    ShipInput,
    order_workflow_id,
)
from contracts.shipping import PackageInput, PackageLineInput
from db.order_projection import OrderProjection
from domain.orders import FulfillmentPolicy, PaymentStatus
from tests.conftest import unique
from tests.integration.stock_world import World
from workflows.order.workflow import OrderWorkflow


def order_input(
    world: World,
    lines: list[tuple[str, int]],
    *,
    policy: FulfillmentPolicy = FulfillmentPolicy.SHIP_PARTIAL,
    allow_split: bool = False,
    payment: PaymentInput | None = None,
    preferred: str | None = None,
) -> OrderInput:
    return OrderInput(
        tenant_id=world.tenant_id,
        order_number=unique("SO"),
        customer_id="C-1",
        currency="EUR",
        lines=[
            OrderLineInput(line_id=f"L{n}", sku=sku, quantity=qty, unit_price="9.90")
            for n, (sku, qty) in enumerate(lines)
        ],
        fulfillment_policy=policy,
        allow_split=allow_split,
        preferred_warehouse=preferred,
        payment=payment or PaymentInput(status=PaymentStatus.AUTHORIZED),
    )


async def start(
    client: Client, task_queue: str, order: OrderInput
) -> WorkflowHandle[OrderWorkflow, OrderView]:
    return await client.start_workflow(
        OrderWorkflow.run,
        order,
        id=order_workflow_id(order.tenant_id, order.order_number),
        task_queue=task_queue,
    )


async def wait_for(
    handle: WorkflowHandle[Any, Any], test: Callable[[OrderView], bool], seconds: float = 20
) -> OrderView:
    """Poll the status query until `test` holds."""
    view: OrderView | None = None
    for _ in range(int(seconds / 0.05)):
        view = await handle.query(OrderWorkflow.status)
        if test(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached; last view: {view}")


async def fulfil(handle: WorkflowHandle[Any, Any], view: OrderView) -> OrderView:
    """The warehouse accepts, picks everything, packs and ships each open request
    (one already accepted from its pick on)."""
    for request in view.fulfillment_requests:
        if request.status not in ("requested", "accepted"):
            continue
        if request.status == "requested":
            await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
        picks = [
            PickLineInput(line_id=line.line_id, quantity=line.quantity) for line in request.lines
        ]
        view = await handle.execute_update(
            OrderWorkflow.pick, PickInput(request_id=request.id, lines=picks)
        )
        view = await pack_and_ship(handle, view, request.id)
    return view


async def pack_and_ship(
    handle: WorkflowHandle[Any, Any], view: OrderView, request_id: str
) -> OrderView:
    """Pack what a picked request holds in one package and ship it."""
    picked = next(r for r in view.fulfillment_requests if r.id == request_id)
    package = PackageInput(
        package_number="P1",
        weight="1.2",
        dimensions="30x20x10",
        lines=[PackageLineInput(line_id=x.line_id, quantity=x.picked) for x in picked.lines],
    )
    await handle.execute_update(
        OrderWorkflow.pack, PackInput(request_id=request_id, packages=[package])
    )
    shipped: OrderView = await handle.execute_update(
        OrderWorkflow.ship,
        ShipInput(
            request_id=request_id,
            carrier="DHL",
            service_level="express",
            tracking_numbers=["TRK-1"],
        ),
    )
    return shipped


async def quiet_history(handle: WorkflowHandle[Any, Any]) -> int:
    """The number of history events once the workflow is idle (no activity in
    flight, nothing new for a moment): the baseline to prove an update left no trace."""
    length = -1
    for _ in range(200):
        description = await handle.describe()
        events = len((await handle.fetch_history()).events)
        if not description.raw_description.pending_activities and events == length:
            return events
        length = events
        await asyncio.sleep(0.1)
    raise AssertionError("the workflow never became idle")


HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def record_lines(world: World, number: str, line_ids: list[str]) -> None:
    """An order's rows as its run records them: this number, these line ids (one
    WIDGET each), as order references `<number>/<line id>` name them."""
    drafted = order_input(world, [("WIDGET", 1)] * len(line_ids))
    lines = [
        dataclasses.replace(line, line_id=line_id)
        for line, line_id in zip(drafted.lines, line_ids, strict=True)
    ]
    order = dataclasses.replace(drafted, order_number=number, lines=lines)
    await OrderProjection(world.sessions).record(order, f"wf-{number}")


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With OMS_RECORD_HISTORIES=1, save this run's history as a replay fixture
    (tests/histories/NAME.json), replayed by test_replay.py on every run."""
    if os.environ.get("OMS_RECORD_HISTORIES"):
        (HISTORIES / f"{name}.json").write_text((await handle.fetch_history()).to_json())
