"""The order projection's events under racing and retried writes (local activities
retry and overlap): each step of a request told once and in order, whatever order
the writes land in; the order's status changes a chain from `received`."""

import asyncio
import random
from dataclasses import replace

from sqlalchemy import text

from contracts.orders import ShipmentView
from db.order_projection import OrderProjection
from domain.orders import OrderStatus, RequestStatus
from tests.integration.stock_world import World
from tests.integration.test_order_projection import _view, recorded_order

LIFE = [  # each version's (order status, request status)
    (OrderStatus.RECEIVED, RequestStatus.REQUESTED),
    (OrderStatus.ALLOCATED, RequestStatus.REQUESTED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.ACCEPTED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.PICKED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.PACKED),
    (OrderStatus.SHIPPED, RequestStatus.SHIPPED),
]


async def test_racing_writes_tell_each_step_once_in_order(world: World) -> None:
    projection = OrderProjection(world.sessions)
    rng = random.Random(12)
    for _ in range(8):
        order = await recorded_order(projection, world)
        number = order.order_number
        views = []
        for version, (status, request_status) in enumerate(LIFE, start=1):
            view = replace(_view(order, version, 0, request_status.value), status=status)
            if request_status is RequestStatus.SHIPPED:
                rid = view.fulfillment_requests[0].id
                view.shipments = [
                    ShipmentView(
                        request_id=rid,
                        carrier="DHL",
                        service_level=None,
                        tracking_numbers=["1Z"],
                        packages=[],
                        shipped_at="2026-12-01T12:00:00Z",
                    )
                ]
            views.append(view)
        writes = [*views, *rng.sample(views, 3)]  # some retried
        rng.shuffle(writes)
        await asyncio.gather(*(projection.update(v) for v in writes))

        async with world.sessions() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT type, subject_type, sequence, data ->> 'previous_status',"
                        " data -> 'order' ->> 'status' FROM events"
                        " WHERE tenant_id = :t AND (subject_id = :n OR subject_id LIKE :r)"
                        " ORDER BY id"
                    ),
                    {"t": world.tenant_id, "n": number, "r": f"{number}-%"},
                )
            ).all()
        request = [r.type for r in rows if r.subject_type == "fulfillment_request"]
        assert request == [
            "fulfillment_request.created",
            "fulfillment_request.accepted",
            "fulfillment_request.picked",
            "fulfillment_request.packed",
            "fulfillment_request.shipped",
        ]
        assert [r.type for r in rows if r.subject_type == "shipment"] == ["shipment.created"]
        ours = [r for r in rows if r.subject_type == "order"]
        assert [r.type for r in ours].count("order.created") == 1
        assert [r.type for r in ours][-1] == "order.shipped"
        for subject in ("order", "fulfillment_request"):
            sequences = [r.sequence for r in rows if r.subject_type == subject]
            assert sequences == list(range(1, len(sequences) + 1))
        changes = [(r[3], r[4]) for r in ours if r.type == "order.status_changed"]
        chain = ["received"] + [new for _, new in changes]
        assert [previous for previous, _ in changes] == chain[:-1]
        assert chain[-1] == "shipped"
