"""Webhook deliveries through the API against real PostgreSQL: listed and read
with their attempts, filtered, sent again one at a time (redeliver) or for a time
range (replay); admin only, tenant-isolated, refusals change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.webhook_deliveries import replay
from domain.events import EventType
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e import webhook_helpers as h

ADMIN = Role.ADMIN
CREATED, SHIPPED = EventType.ORDER_CREATED, EventType.ORDER_SHIPPED


async def _two_deliveries(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An endpoint with two deliveries: SO-1 delivered at the second attempt, SO-2
    pending after a 503."""
    endpoint = await h.create_endpoint(api, tenant)
    await h.publish(
        sessions, await h.tenant_id(sessions, tenant), (CREATED, "SO-1"), (CREATED, "SO-2")
    )
    first, second = await h.deliveries(sessions, endpoint["id"])
    await h.add_attempt(sessions, first["id"], None, "timed out")
    await h.add_attempt(sessions, first["id"], 200)
    await h.add_attempt(sessions, second["id"], 503)
    return endpoint, await h.deliveries(sessions, endpoint["id"])


async def test_deliveries_are_listed_newest_first_with_their_attempts(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint, (first, second) = await _two_deliveries(api, tenant, sessions)
    page = (await api.get("/v1/webhook-deliveries?limit=1", headers=tenant.auth(ADMIN))).json()
    [pending] = page["items"]
    assert pending["id"] == second["id"] and pending["endpoint"] == endpoint["id"]
    assert (pending["event_id"], pending["event_type"]) == (second["evt"], "order.created")
    assert pending["subject"] == {"type": "order", "id": "SO-2"}
    assert (pending["status"], pending["last_status"], pending["latency_ms"]) == (
        "pending",
        503,
        87,
    )
    assert pending["attempt_count"] == 1 and pending["delivered_at"] is None

    rest = (
        await api.get(
            f"/v1/webhook-deliveries?limit=1&cursor={page['next_cursor']}",
            headers=tenant.auth(ADMIN),
        )
    ).json()
    [delivered] = rest["items"]
    assert delivered["status"] == "delivered" and delivered["delivered_at"] is not None
    assert [(a["status_code"], a["error"]) for a in delivered["attempts"]] == [
        (None, "timed out"),
        (200, None),
    ]
    read = await api.get(f"/v1/webhook-deliveries/{first['id']}", headers=tenant.auth(ADMIN))
    assert read.json() == delivered


async def test_deliveries_are_filtered_by_endpoint_status_and_event(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint, (first, second) = await _two_deliveries(api, tenant, sessions)
    other = await h.create_endpoint(api, tenant, event_types=["shipment.*"])
    shipment = EventType.SHIPMENT_CREATED
    await h.publish(sessions, await h.tenant_id(sessions, tenant), (shipment, "SH-1"))

    async def ids(query: str) -> list[int]:
        page = await api.get(f"/v1/webhook-deliveries?{query}", headers=tenant.auth(ADMIN))
        return [d["id"] for d in page.json()["items"]]

    [shipped] = await h.deliveries(sessions, other["id"])
    assert await ids(f"endpoint={endpoint['id']}") == [second["id"], first["id"]]
    assert await ids(f"endpoint={other['id']}") == [shipped["id"]]
    assert await ids("status=delivered") == [first["id"]]
    assert await ids(f"event={second['evt']}") == [second["id"]]
    assert await ids("status=failed") == []
    bad = await api.get("/v1/webhook-deliveries?status=lost", headers=tenant.auth(ADMIN))
    assert bad.status_code == 422


async def test_a_redelivery_is_due_now_with_a_fresh_schedule_and_keeps_its_history(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions, engine: AsyncEngine
) -> None:
    _, (first, _) = await _two_deliveries(api, tenant, sessions)
    async with h.relay_channel(engine) as heard:
        response = await api.post(
            f"/v1/webhook-deliveries/{first['id']}/redeliver", headers=tenant.auth(ADMIN)
        )
        assert await heard.get() == "oms_events"
    assert response.status_code == 202
    shown = response.json()
    assert shown["status"] == "pending" and shown["delivered_at"] is None
    assert shown["attempt_count"] == 2 and len(shown["attempts"]) == 2  # history kept
    [row] = await h.rows(
        sessions,
        "SELECT status, attempts, dispatched, next_attempt_at <= now() AS due"
        " FROM webhook_deliveries WHERE id = :d",
        d=first["id"],
    )
    assert row == {"status": "pending", "attempts": 0, "dispatched": False, "due": True}


async def _delivery_rows(sessions: h.Sessions, endpoint_id: int) -> list[dict[str, Any]]:
    found = await h.deliveries(sessions, endpoint_id)
    return found


async def test_redelivering_another_tenants_delivery_is_not_found_and_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint, (first, _) = await _two_deliveries(api, tenant, sessions)
    before = await _delivery_rows(sessions, endpoint["id"])
    theirs = other_tenant.auth(ADMIN)
    for response in (
        await api.post(f"/v1/webhook-deliveries/{first['id']}/redeliver", headers=theirs),
        await api.get(f"/v1/webhook-deliveries/{first['id']}", headers=theirs),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    listed = await api.get(f"/v1/webhook-deliveries?endpoint={endpoint['id']}", headers=theirs)
    assert listed.json()["items"] == []
    assert await _delivery_rows(sessions, endpoint["id"]) == before


@pytest.mark.parametrize("role", [Role.OMS, Role.WMS, Role.VIEWER])
async def test_only_an_admin_key_sees_or_resends_deliveries(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions, role: Role
) -> None:
    endpoint, (first, _) = await _two_deliveries(api, tenant, sessions)
    before = await _delivery_rows(sessions, endpoint["id"])
    for response in (
        await api.get("/v1/webhook-deliveries", headers=tenant.auth(role)),
        await api.get(f"/v1/webhook-deliveries/{first['id']}", headers=tenant.auth(role)),
        await api.post(
            f"/v1/webhook-deliveries/{first['id']}/redeliver", headers=tenant.auth(role)
        ),
        await api.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay",
            json={"since": "2026-01-01T00:00:00Z"},
            headers=tenant.auth(role),
        ),
    ):
        assert response.status_code == 403
    assert await _delivery_rows(sessions, endpoint["id"]) == before


async def test_nothing_is_sent_again_to_a_disabled_endpoint(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint, (first, _) = await _two_deliveries(api, tenant, sessions)
    await api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}",
        json={"enabled": False},
        headers=tenant.auth(ADMIN),
    )
    before = await _delivery_rows(sessions, endpoint["id"])
    redelivered = await api.post(
        f"/v1/webhook-deliveries/{first['id']}/redeliver", headers=tenant.auth(ADMIN)
    )
    replayed = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay",
        json={"since": first["created_at"].isoformat()},
        headers=tenant.auth(ADMIN),
    )
    for response in (redelivered, replayed):
        assert response.status_code == 409
        assert "enable it first" in response.json()["detail"]
    assert await _delivery_rows(sessions, endpoint["id"]) == before


async def _age(sessions: h.Sessions, tenant_id: int, subject: str, hours: int) -> None:
    await h.execute(
        sessions,
        "UPDATE events SET occurred_at = now() - make_interval(hours => :h)"
        " WHERE tenant_id = :t AND subject_id = :s",
        t=tenant_id,
        s=subject,
        h=hours,
    )


async def test_a_replay_requeues_and_adds_the_matching_events_of_its_range_only(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    tenant_id = await h.tenant_id(sessions, tenant)
    # before the endpoint existed: no deliveries were made for these
    await h.publish(sessions, tenant_id, (CREATED, "OLD"), (SHIPPED, "OLD"), (CREATED, "OLDER"))
    await h.publish(sessions, tenant_id, (EventType.SHIPMENT_CREATED, "SH-OLD"))
    endpoint, (first, _) = await _two_deliveries(api, tenant, sessions)
    await _age(sessions, tenant_id, "OLD", 5)
    await _age(sessions, tenant_id, "SH-OLD", 5)
    await _age(sessions, tenant_id, "OLDER", 50)  # outside the range

    response = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay",
        json={"since": (first["created_at"] - timedelta(hours=24)).isoformat()},
        headers=tenant.auth(ADMIN),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "requeued": 2, "next_since": None}
    after = await h.deliveries(sessions, endpoint["id"])
    assert sorted((d["type"], d["subject_key"]) for d in after) == [
        ("order.created", "order:OLD"),
        ("order.created", "order:SO-1"),
        ("order.created", "order:SO-2"),
        ("order.shipped", "order:OLD"),
    ]
    assert {(d["status"], d["attempts"], d["dispatched"]) for d in after} == {("pending", 0, False)}


async def test_a_replay_out_of_bounds_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    await h.publish(sessions, await h.tenant_id(sessions, tenant), (CREATED, "SO-1"))
    before = await h.deliveries(sessions, endpoint["id"])
    since = datetime.fromisoformat(endpoint["created_at"])
    for body, field in (
        ({"since": since.isoformat(), "until": since.isoformat()}, "until"),
        ({"since": since.isoformat(), "until": (since + timedelta(days=32)).isoformat()}, "until"),
        ({"since": "2026-01-01T00:00:00"}, None),  # no time zone
        ({}, None),
    ):
        response = await api.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay", json=body, headers=tenant.auth(ADMIN)
        )
        assert response.status_code == 422, body
        assert response.json().get("field") == field
    assert await h.deliveries(sessions, endpoint["id"]) == before


async def _replay(
    sessions: h.Sessions, tenant_id: int, endpoint_id: int, since: datetime
) -> tuple[int, int, datetime | None]:
    async with sessions() as session, session.begin():
        done = await replay(session, tenant_id, endpoint_id, since=since, until=None, limit=2)
    return done.created, done.requeued, done.next_since


async def test_a_long_replay_goes_on_from_next_since_without_splitting_events_written_together(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    tenant_id = await h.tenant_id(sessions, tenant)
    endpoint = await h.create_endpoint(api, tenant)
    since = datetime.fromisoformat(endpoint["created_at"])
    for n in range(3):  # three instants
        await h.publish(sessions, tenant_id, (CREATED, f"SO-{n}"))
    created, requeued, next_since = await _replay(sessions, tenant_id, endpoint["id"], since)
    assert (created, requeued) == (0, 2) and next_since is not None
    assert await _replay(sessions, tenant_id, endpoint["id"], next_since) == (0, 1, None)

    await h.publish(sessions, tenant_id, *[(SHIPPED, f"SO-{n}") for n in range(3)])  # one instant
    [shipped] = await h.rows(
        sessions,
        "SELECT DISTINCT occurred_at FROM events WHERE tenant_id = :t AND type = :type",
        t=tenant_id,
        type=SHIPPED.value,
    )
    created, requeued, next_since = await _replay(
        sessions, tenant_id, endpoint["id"], shipped["occurred_at"]
    )
    assert (created, requeued, next_since) == (0, 3, None)
