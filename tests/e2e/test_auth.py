"""Bearer-key auth: 401 without a valid key, 403 for a role that may not, and a
tenant never sees another tenant's rows."""

import httpx
import pytest

from domain.api_keys import parse_key
from domain.roles import Role
from tests.conftest import TenantKeys

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_missing_key_is_401_with_a_bearer_challenge(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/me")
    body = _assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "missing" in str(body["detail"])


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-key",
        "Bearer oms_000000000000_nosuchsecret",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
async def test_bad_keys_are_401(api: httpx.AsyncClient, header: str) -> None:
    _assert_problem(await api.get("/v1/me", headers={"Authorization": header}), 401)


async def test_right_key_id_with_wrong_secret_is_401(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    parsed = parse_key(tenant.keys[Role.VIEWER])
    assert parsed is not None
    forged = f"oms_{parsed.key_id}_forged-secret"
    _assert_problem(await api.get("/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401)


async def test_each_key_knows_its_tenant_and_role(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for role in Role:
        response = await api.get("/v1/me", headers=tenant.auth(role))
        assert response.status_code == 200
        assert response.json()["tenant"] == tenant.slug
        assert response.json()["role"] == role.value


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OMS, Role.WMS])
async def test_non_admin_cannot_create_keys_and_nothing_is_created(
    api: httpx.AsyncClient, tenant: TenantKeys, role: Role
) -> None:
    before = (await api.get("/v1/api-keys", headers=tenant.auth(Role.ADMIN))).json()["items"]
    response = await api.post(
        "/v1/api-keys", json={"role": "admin", "name": "escalate"}, headers=tenant.auth(role)
    )
    body = _assert_problem(response, 403)
    assert role.value in str(body["detail"])
    after = (await api.get("/v1/api-keys", headers=tenant.auth(Role.ADMIN))).json()["items"]
    assert after == before


async def test_admin_creates_a_key_that_works_and_revokes_it(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await api.post(
        "/v1/api-keys", json={"role": "wms", "name": "scanner"}, headers=tenant.auth(Role.ADMIN)
    )
    assert created.status_code == 201
    new_key = created.json()["key"]
    me = await api.get("/v1/me", headers={"Authorization": f"Bearer {new_key}"})
    assert me.json() == {"tenant": tenant.slug, "role": "wms", "key_id": created.json()["key_id"]}

    revoked = await api.post(
        f"/v1/api-keys/{created.json()['key_id']}/revoke", headers=tenant.auth(Role.ADMIN)
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = await api.get("/v1/me", headers={"Authorization": f"Bearer {new_key}"})
    _assert_problem(again, 401)


async def test_listed_keys_never_show_secrets(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    listed = await api.get("/v1/api-keys", headers=tenant.auth(Role.ADMIN))
    assert listed.status_code == 200
    text = listed.text
    assert len(listed.json()["items"]) == len(Role)
    for key in tenant.keys.values():
        assert key not in text
        parsed = parse_key(key)
        assert parsed is not None
        assert parsed.secret not in text


async def test_other_tenant_sees_nothing_and_cannot_touch(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    mine = (await api.get("/v1/api-keys", headers=tenant.auth(Role.ADMIN))).json()["items"]
    theirs = (await api.get("/v1/api-keys", headers=other_tenant.auth(Role.ADMIN))).json()["items"]
    assert {k["key_id"] for k in mine}.isdisjoint({k["key_id"] for k in theirs})

    target = mine[0]["key_id"]
    response = await api.post(
        f"/v1/api-keys/{target}/revoke", headers=other_tenant.auth(Role.ADMIN)
    )
    _assert_problem(response, 404)
    still = (await api.get("/v1/api-keys", headers=tenant.auth(Role.ADMIN))).json()["items"]
    assert next(k for k in still if k["key_id"] == target)["revoked_at"] is None
