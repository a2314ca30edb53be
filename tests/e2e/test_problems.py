"""Every error is problem+json: validation (with per-field errors), unknown routes,
wrong methods."""

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys

PROBLEM = "application/problem+json"


async def test_validation_errors_name_each_field_and_create_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    admin = tenant.auth(Role.ADMIN)
    before = (await api.get("/v1/api-keys", headers=admin)).json()["items"]
    response = await api.post("/v1/api-keys", json={"role": "superuser", "name": ""}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"body.role", "body.name"}
    assert "body.role" in body["detail"]
    assert (await api.get("/v1/api-keys", headers=admin)).json()["items"] == before


async def test_malformed_json_is_400_problem(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await api.post(
        "/v1/api-keys",
        content=b"{not json",
        headers={**tenant.auth(Role.ADMIN), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_route_is_404_problem(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "no route GET /v1/no-such-thing"


async def test_wrong_method_is_405_problem(api: httpx.AsyncClient) -> None:
    response = await api.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_openapi_documents_problem_responses(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    create = spec["paths"]["/v1/api-keys"]["post"]
    assert {"401", "403", "422"} <= create["responses"].keys()
    assert "application/problem+json" in create["responses"]["403"]["content"]
    docs = await api.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text  # the page works without the internet
    script = docs.text.split('src="')[1].split('"')[0]
    assert (await api.get(script)).status_code == 200


async def test_metrics_count_requests_by_route_template(api: httpx.AsyncClient) -> None:
    await api.get("/healthz")
    text = (await api.get("/metrics")).text
    assert 'oms_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "oms_http_request_duration_seconds_bucket" in text


async def test_a_console_page_is_counted_under_its_mount_path(api: httpx.AsyncClient) -> None:
    await api.get("/console/orders/SO-404")  # signed out: the sign-in form, 401
    text = (await api.get("/metrics")).text
    expected = 'route="/console/orders/{order_number}",status="401"'
    assert f'oms_http_requests_total{{method="GET",{expected}}}' in text
