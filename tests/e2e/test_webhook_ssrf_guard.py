"""The SSRF guard on saving an endpoint, with settings that do not allow private
URLs (the production default): a URL aimed inward, by its literal or by what its
name resolves to, or a name that does not resolve, is refused naming `url`, and
nothing is saved. No network: only literals and /etc/hosts-free forms resolve."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.resources import Resources
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e import webhook_helpers as h

ADMIN = Role.ADMIN
PUBLIC = "https://93.184.215.14/hooks"  # a public address: no lookup needed


@pytest.fixture(scope="module")
async def guarded_api(resources: Resources) -> AsyncIterator[httpx.AsyncClient]:
    """The API with webhooks_allow_private_urls off."""
    settings = resources.settings.model_copy(update={"webhooks_allow_private_urls": False})
    app = create_app(resources=dataclasses.replace(resources, settings=settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
        yield client


UNSAFE = [
    "http://127.0.0.1:8080/hooks",  # loopback
    "http://[::1]/hooks",
    "http://10.1.2.3/hooks",  # private
    "http://192.168.0.10/hooks",
    "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
    "http://[::ffff:127.0.0.1]/hooks",  # loopback mapped into IPv6
    "http://localhost:8000/hooks",
    "http://api.localhost/hooks",
    "http://127.1/hooks",  # a short form no literal check reads: it resolves inward
    "http://2130706433/hooks",  # 127.0.0.1 as one number, likewise
    "https://hooks.invalid/oms",  # resolves to nothing: refused at save time
]


@pytest.mark.parametrize("url", UNSAFE)
async def test_an_endpoint_aimed_inward_or_nowhere_is_refused_and_nothing_is_saved(
    guarded_api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions, url: str
) -> None:
    body = {"url": url, "event_types": ["*"]}
    created = await guarded_api.post("/v1/webhook-endpoints", json=body, headers=tenant.auth(ADMIN))
    assert created.status_code == 422, created.text
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["field"] == "url"
    assert created.json()["type"] == "urn:oms:problem:unsafe-url"
    tenant_id = await h.tenant_id(sessions, tenant)
    assert (
        await h.rows(sessions, "SELECT id FROM webhook_endpoints WHERE tenant_id = :t", t=tenant_id)
        == []
    )


async def test_an_endpoint_cannot_be_moved_inward_by_a_patch(
    guarded_api: httpx.AsyncClient, tenant: TenantKeys, sessions: h.Sessions
) -> None:
    endpoint = await h.create_endpoint(guarded_api, tenant, url=PUBLIC)
    url = f"/v1/webhook-endpoints/{endpoint['id']}"
    for unsafe in ("http://169.254.169.254/", "http://127.1/", "https://hooks.invalid/"):
        response = await guarded_api.patch(url, json={"url": unsafe}, headers=tenant.auth(ADMIN))
        assert response.status_code == 422 and response.json()["field"] == "url"
    read = await guarded_api.get(url, headers=tenant.auth(ADMIN))
    assert read.json()["url"] == PUBLIC
