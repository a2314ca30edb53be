"""Webhook endpoints through the API against real PostgreSQL: create (the secret
shown once), list, read, change, disable and enable again, rotate the secret (both
sign during the overlap), delete; admin only, tenant-isolated, bad input saves
nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from db.webhooks import ROTATION_OVERLAP, get_endpoint, live_secrets
from domain.events import EventType
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e import webhook_helpers as h
from webhooks.signing import signed_headers

ADMIN = Role.ADMIN


async def test_a_created_endpoint_shows_its_secret_once_and_reads_back_without_it(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await h.create_endpoint(
        api,
        tenant,
        url="https://shop.example.com/hooks",
        event_types=["order.*", "shipment.created", "order.*"],
        description="shop",
    )
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["order.*", "shipment.created"]  # repeats dropped
    assert created["enabled"] is True and created["disabled_reason"] is None
    assert created["workflow_id"] == f"webhook-endpoint-{created['id']}"
    read = await api.get(f"/v1/webhook-endpoints/{created['id']}", headers=tenant.auth(ADMIN))
    assert read.status_code == 200
    assert "secret" not in read.json() and "previous_secret" not in read.json()
    assert read.json() == {k: v for k, v in created.items() if k != "secret"}


async def test_endpoints_are_listed_newest_first_a_page_at_a_time(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    ids = [(await h.create_endpoint(api, tenant))["id"] for _ in range(3)]
    first = (await api.get("/v1/webhook-endpoints?limit=2", headers=tenant.auth(ADMIN))).json()
    assert [e["id"] for e in first["items"]] == ids[:0:-1]
    assert all("secret" not in e for e in first["items"])
    rest = (
        await api.get(
            f"/v1/webhook-endpoints?limit=2&cursor={first['next_cursor']}",
            headers=tenant.auth(ADMIN),
        )
    ).json()
    assert [e["id"] for e in rest["items"]] == ids[:1]
    assert rest["next_cursor"] is None


async def test_a_patch_changes_only_the_fields_sent(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await h.create_endpoint(api, tenant, description="shop")
    response = await api.patch(
        f"/v1/webhook-endpoints/{created['id']}",
        json={"url": "https://other.example.com/in", "event_types": ["*"]},
        headers=tenant.auth(ADMIN),
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["url"], changed["event_types"]) == ("https://other.example.com/in", ["*"])
    assert changed["description"] == "shop" and changed["enabled"] is True
    assert changed["updated_at"] > created["updated_at"]


async def test_enabling_a_disabled_endpoint_clears_the_reason_and_requeues_its_pending_deliveries(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions, engine: AsyncEngine
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    await h.publish(
        sessions, await h.tenant_id(sessions, tenant), (EventType.ORDER_CREATED, "SO-1")
    )
    await h.execute(
        sessions,
        "UPDATE webhook_deliveries SET dispatched = true WHERE endpoint_id = :e",
        e=endpoint["id"],
    )
    url = f"/v1/webhook-endpoints/{endpoint['id']}"
    disabled = (await api.patch(url, json={"enabled": False}, headers=tenant.auth(ADMIN))).json()
    assert disabled["enabled"] is False
    assert disabled["disabled_reason"].startswith("disabled by key:")

    async with h.relay_channel(engine) as heard:
        enabled = await api.patch(url, json={"enabled": True}, headers=tenant.auth(ADMIN))
        assert await heard.get() == "oms_events"  # the relay is woken
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    [delivery] = await h.deliveries(sessions, endpoint["id"])
    assert (delivery["status"], delivery["dispatched"]) == ("pending", False)


async def test_a_rotated_secret_signs_together_with_the_old_one_for_a_day(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    created = await h.create_endpoint(api, tenant)
    response = await api.post(
        f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=tenant.auth(ADMIN)
    )
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    async with sessions() as session:
        row = await get_endpoint(session, await h.tenant_id(sessions, tenant), created["id"])
    assert row.previous_secret == created["secret"]
    assert row.previous_secret_expires_at == row.updated_at + ROTATION_OVERLAP

    during = live_secrets(row, row.updated_at + timedelta(hours=23))
    assert during == [rotated["secret"], created["secret"]]
    body = b'{"type":"order.created"}'
    headers = signed_headers("evt_1", body, during, row.updated_at)
    for secret in (created["secret"], rotated["secret"]):  # a receiver on either verifies
        Webhook(secret).verify(body, headers)
    assert live_secrets(row, row.updated_at + ROTATION_OVERLAP) == [rotated["secret"]]


async def test_a_deleted_endpoint_is_gone_with_its_deliveries(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    await h.publish(
        sessions, await h.tenant_id(sessions, tenant), (EventType.ORDER_CREATED, "SO-2")
    )
    url = f"/v1/webhook-endpoints/{endpoint['id']}"
    assert (await api.delete(url, headers=tenant.auth(ADMIN))).status_code == 204
    assert (await api.get(url, headers=tenant.auth(ADMIN))).status_code == 404
    assert await h.deliveries(sessions, endpoint["id"]) == []


async def _endpoint_row(sessions: h.Sessions, endpoint_id: int) -> list[dict[str, object]]:
    return await h.rows(sessions, "SELECT * FROM webhook_endpoints WHERE id = :e", e=endpoint_id)


async def test_another_tenants_endpoint_is_not_found_and_stays_unchanged(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    before = await _endpoint_row(sessions, endpoint["id"])
    url = f"/v1/webhook-endpoints/{endpoint['id']}"
    theirs = other_tenant.auth(ADMIN)
    for response in (
        await api.get(url, headers=theirs),
        await api.patch(url, json={"enabled": False}, headers=theirs),
        await api.post(f"{url}/rotate-secret", headers=theirs),
        await api.post(f"{url}/replay", json={"since": "2026-01-01T00:00:00Z"}, headers=theirs),
        await api.delete(url, headers=theirs),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    listed = (await api.get("/v1/webhook-endpoints", headers=theirs)).json()
    assert listed["items"] == []
    assert await _endpoint_row(sessions, endpoint["id"]) == before


@pytest.mark.parametrize("role", [Role.OMS, Role.WMS, Role.VIEWER])
async def test_only_an_admin_key_manages_endpoints(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions, role: Role
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    before = await _endpoint_row(sessions, endpoint["id"])
    url = f"/v1/webhook-endpoints/{endpoint['id']}"
    body = {"url": "https://hooks.example.com/x", "event_types": ["*"]}
    for response in (
        await api.post("/v1/webhook-endpoints", json=body, headers=tenant.auth(role)),
        await api.get("/v1/webhook-endpoints", headers=tenant.auth(role)),
        await api.get(url, headers=tenant.auth(role)),
        await api.patch(url, json={"enabled": False}, headers=tenant.auth(role)),
        await api.post(f"{url}/rotate-secret", headers=tenant.auth(role)),
        await api.delete(url, headers=tenant.auth(role)),
    ):
        assert response.status_code == 403
        assert response.json()["type"] == "urn:oms:problem:forbidden"
    assert await _endpoint_row(sessions, endpoint["id"]) == before
    listed = (await api.get("/v1/webhook-endpoints", headers=tenant.auth(ADMIN))).json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["order.shiped"]}, "event_types"),
        ({"event_types": ["parcel.*"]}, "event_types"),
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "url"),
        ({"url": "https://hooks.example.com:0/x"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
async def test_an_unknown_event_type_or_a_malformed_url_saves_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    sessions: h.Sessions,
    body: dict[str, object],
    field: str,
) -> None:
    full = {"url": "https://hooks.example.com/oms", "event_types": ["order.*"]} | body
    created = await api.post("/v1/webhook-endpoints", json=full, headers=tenant.auth(ADMIN))
    assert created.status_code == 422
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["field"] == field
    listed = (await api.get("/v1/webhook-endpoints", headers=tenant.auth(ADMIN))).json()
    assert listed["items"] == []

    endpoint = await h.create_endpoint(api, tenant)
    before = await _endpoint_row(sessions, endpoint["id"])
    patched = await api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json=body, headers=tenant.auth(ADMIN)
    )
    assert patched.status_code == 422 and patched.json()["field"] == field
    assert await _endpoint_row(sessions, endpoint["id"]) == before


async def test_a_patch_may_not_null_a_required_field(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint = await h.create_endpoint(api, tenant)
    before = await _endpoint_row(sessions, endpoint["id"])
    for name in ("url", "event_types", "enabled"):
        response = await api.patch(
            f"/v1/webhook-endpoints/{endpoint['id']}", json={name: None}, headers=tenant.auth(ADMIN)
        )
        assert response.status_code == 422 and response.json()["field"] == name
    assert await _endpoint_row(sessions, endpoint["id"]) == before
