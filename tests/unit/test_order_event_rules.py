"""Which events an order's projected step produces (domain.order_events), without a
database: the order's, its requests' (a jump of several steps emits each), its
shipments'; an unchanged view produces none."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.events import EventType
from domain.order_events import OrderEvent, OrderFacts, order_events, request_types
from domain.orders import OrderStatus, RequestStatus

STEPS = [
    RequestStatus.REQUESTED,
    RequestStatus.ACCEPTED,
    RequestStatus.PICKED,
    RequestStatus.PACKED,
    RequestStatus.SHIPPED,
]


def _types(events: list[OrderEvent]) -> list[tuple[str, str]]:
    return [(e.type.value, e.subject_id) for e in events]


def test_a_first_view_is_created_then_a_status_change_counted_from_received() -> None:
    first = OrderFacts(status=OrderStatus.ALLOCATED, requests=[("R1", RequestStatus.REQUESTED)])
    events = order_events("SO-1", None, first)
    assert _types(events) == [
        ("order.created", "SO-1"),
        ("order.status_changed", "SO-1"),
        ("fulfillment_request.created", "R1"),
    ]
    assert events[1].previous_status is OrderStatus.RECEIVED
    assert _types(order_events("SO-1", None, OrderFacts(status=OrderStatus.RECEIVED))) == [
        ("order.created", "SO-1")
    ]


def test_shipping_an_order_changes_its_status_ships_the_request_and_creates_a_shipment() -> None:
    before = OrderFacts(status=OrderStatus.IN_FULFILLMENT, requests=[("R1", RequestStatus.PACKED)])
    after = OrderFacts(
        status=OrderStatus.SHIPPED, requests=[("R1", RequestStatus.SHIPPED)], shipments=["R1"]
    )
    events = order_events("SO-1", before, after)
    assert _types(events) == [
        ("order.status_changed", "SO-1"),
        ("order.shipped", "SO-1"),
        ("fulfillment_request.shipped", "R1"),
        ("shipment.created", "R1"),
    ]
    assert events[0].previous_status is OrderStatus.IN_FULFILLMENT


def test_a_canceled_order_cancels_its_open_requests_but_not_a_shipped_one() -> None:
    before = OrderFacts(
        status=OrderStatus.PARTIALLY_SHIPPED,
        requests=[("R1", RequestStatus.SHIPPED), ("R2", RequestStatus.ACCEPTED)],
        shipments=["R1"],
    )
    after = OrderFacts(
        status=OrderStatus.CANCELED,
        requests=[("R1", RequestStatus.SHIPPED), ("R2", RequestStatus.CANCELED)],
        shipments=["R1"],
    )
    assert _types(order_events("SO-1", before, after)) == [
        ("order.status_changed", "SO-1"),
        ("order.canceled", "SO-1"),
        ("fulfillment_request.canceled", "R2"),
    ]


def test_a_request_that_jumps_steps_emits_each_in_order() -> None:
    assert request_types(RequestStatus.REQUESTED, RequestStatus.PACKED) == [
        EventType.REQUEST_ACCEPTED,
        EventType.REQUEST_PICKED,
        EventType.REQUEST_PACKED,
    ]
    assert request_types(None, RequestStatus.ACCEPTED) == [
        EventType.REQUEST_CREATED,
        EventType.REQUEST_ACCEPTED,
    ]
    assert request_types(None, RequestStatus.CANCELED) == [
        EventType.REQUEST_CREATED,
        EventType.REQUEST_CANCELED,
    ]
    assert request_types(RequestStatus.CANCELED, RequestStatus.CANCELED) == []


statuses = st.sampled_from(list(OrderStatus))
request_statuses = st.sampled_from(list(RequestStatus))


@st.composite
def facts(draw: st.DrawFn) -> OrderFacts:
    ids = draw(st.lists(st.sampled_from(["R1", "R2", "R3"]), unique=True))
    return OrderFacts(
        status=draw(statuses),
        requests=[(i, draw(request_statuses)) for i in ids],
        shipments=draw(st.lists(st.sampled_from(ids), unique=True)) if ids else [],
    )


@given(facts())
def test_a_view_projected_again_unchanged_produces_no_event(view: OrderFacts) -> None:
    assert order_events("SO-1", view, view) == []


paths = st.lists(st.sampled_from(STEPS), min_size=1, unique=True).map(
    lambda steps: sorted(steps, key=STEPS.index)
)


def _step_by_step(path: list[RequestStatus]) -> list[EventType]:
    events: list[EventType] = []
    seen: RequestStatus | None = None
    for status in path:
        events += request_types(seen, status)
        seen = status
    return events


@given(paths)
def test_a_request_emits_the_same_events_whether_its_steps_are_seen_one_by_one_or_at_once(
    path: list[RequestStatus],
) -> None:
    events = _step_by_step(path)
    assert events == request_types(None, path[-1])
    assert len(events) == STEPS.index(path[-1]) + 1  # created, then one per step
    assert events[0] is EventType.REQUEST_CREATED


@given(paths, st.sampled_from([RequestStatus.CANCELED, RequestStatus.SHIPPED]))
def test_nothing_follows_a_final_request_status_and_a_cancel_is_told_once(
    path: list[RequestStatus], end: RequestStatus
) -> None:
    ended = path if path[-1].is_final else [*path, end]
    events = _step_by_step(ended)
    assert events.count(EventType.REQUEST_CANCELED) == (ended[-1] is RequestStatus.CANCELED)
    assert _step_by_step([*ended, RequestStatus.CANCELED]) == events


@given(st.lists(statuses, min_size=1))
def test_every_change_of_order_status_is_one_status_changed_event(
    seen: list[OrderStatus],
) -> None:
    before: OrderFacts | None = None
    changed = []
    for status in seen:
        after = OrderFacts(status=status)
        changed += [
            e.previous_status
            for e in order_events("SO-1", before, after)
            if e.type is EventType.ORDER_STATUS_CHANGED
        ]
        before = after
    statuses_before = [OrderStatus.RECEIVED, *seen]
    expected = [a for a, b in zip(statuses_before, seen, strict=False) if a is not b]
    assert changed == expected
