"""Importing items from CSV: all rows or none, every bad row named."""

import time
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Item, Tenant
from domain.barcodes import gtin_check_digit
from domain.roles import Role
from tests.conftest import TenantKeys

HEADER = "sku,name,unit,base_units_per_unit,min_increment,reorder_point,max_stock,barcodes\n"


def _gtin(n: int) -> str:
    body = f"{n:012d}"
    return body + str(gtin_check_digit(body))


async def _count(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> int:
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant.slug))
        count = await session.scalar(select(func.count()).where(Item.tenant_id == tenant_id))
        return int(count or 0)


async def _import(
    api: httpx.AsyncClient, tenant: TenantKeys, body: str, **headers: str
) -> httpx.Response:
    sent = {**tenant.auth(Role.ADMIN), "Content-Type": "text/csv", **headers}
    return await api.post("/v1/items/import", content=body.encode(), headers=sent)


async def test_ten_thousand_rows_are_imported_at_once(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = [f"SKU-{n:05d},Item {n},yd,4,0.25,{n % 50}.5,100,{_gtin(n)}\n" for n in range(10_000)]

    async def chunks() -> AsyncIterator[bytes]:  # a streamed body, in pieces that cut rows in two
        text = (HEADER + "".join(rows)).encode()
        for at in range(0, len(text), 65_521):
            yield text[at : at + 65_521]

    started = time.perf_counter()
    response = await api.post(
        "/v1/items/import",
        content=chunks(),
        headers={**tenant.auth(Role.ADMIN), "Content-Type": "text/csv"},
    )
    elapsed = time.perf_counter() - started
    print(f"\nimported 10,000 rows in {elapsed:.2f} s")
    assert response.status_code == 201, response.text[:500]
    assert response.json()["created"] == 10_000
    assert await _count(sessions, tenant) == 10_000
    viewer = tenant.auth(Role.VIEWER)
    last = (await api.get("/v1/items/SKU-09999", headers=viewer)).json()
    assert (last["uom"]["unit"], last["reorder_point"], last["barcodes"]) == (
        "yd",
        49.5,
        [_gtin(9999)],
    )
    found = await api.get(f"/v1/items?barcode={_gtin(1234)}", headers=viewer)
    assert [i["sku"] for i in found.json()["items"]] == ["SKU-01234"]


async def test_three_bad_rows_among_good_ones_are_all_listed_and_nothing_is_created(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = tenant.auth(Role.ADMIN)
    existing = {"sku": "OLD", "name": "Old"}
    assert (await api.post("/v1/items", json=existing, headers=admin)).status_code == 201
    lines = [f'GOOD-{n},"Good, {n}",ea,1,1,5,10,\n' for n in range(8)]
    lines[2] = "BAD-QTY,Bad quantity,yd,4,0.25,1.1,10,\n"  # line 4: not a quarter yard
    lines[5] = "OLD,Already there,ea,1,1,,,\n"  # line 7
    lines[6] = "BAD-CODE,Bad barcode,ea,1,1,,,4006381333932\n"  # line 8
    response = await _import(api, tenant, HEADER + "".join(lines))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [(r["row"], r["field"]) for r in problem["rows"]] == [
        (4, "reorder_point"),
        (7, "sku"),
        (8, "barcodes"),
    ]
    assert await _count(sessions, tenant) == 1


async def test_bad_rows_found_without_the_database_are_listed_all_at_once(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = (
        "sku,name,default_strategy,track_lot\n"
        "A,Alpha,fifo,true\n"
        "B,Beta,fefo,\n"  # fefo needs track_expiry
        "A,Alpha again,,\n"  # A twice
        "C,,,\n"  # no name
        "D,Delta,,maybe\n"  # not a boolean
        "E,Echo\n"  # a cell short
    )
    response = await _import(api, tenant, body)
    assert response.status_code == 422, response.text
    assert [(r["row"], r["field"]) for r in response.json()["rows"]] == [
        (3, "default_strategy"),
        (4, "sku"),
        (5, "name"),
        (6, "track_lot"),
        (7, "row"),
    ]
    assert await _count(sessions, tenant) == 0


async def test_a_wrong_header_is_422_naming_the_column(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for header, named in (("sku,name,colour", "colour"), ("sku,title", "name"), ("", "header")):
        response = await _import(api, tenant, f"{header}\nA,B,C\n" if header else "")
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "header"
        assert named in response.json()["detail"]
    wrong_type = await api.post(
        "/v1/items/import",
        content=b"sku,name\nA,B\n",
        headers={**tenant.auth(Role.ADMIN), "Content-Type": "application/json"},
    )
    assert wrong_type.status_code == 415
    assert await _count(sessions, tenant) == 0


async def test_an_import_repeated_with_its_key_replays_and_creates_nothing_more(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = "sku,name,barcodes\nX1,One,96385074\nX2,Two,\n"
    first = await _import(api, tenant, body, **{"Idempotency-Key": "import-1"})
    again = await _import(api, tenant, body, **{"Idempotency-Key": "import-1"})
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["skus"] == again.json()["skus"] == ["X1", "X2"]
    assert again.json()["replayed"] is True
    twice = await _import(api, tenant, body)
    assert twice.status_code == 422
    assert [(r["row"], r["field"]) for r in twice.json()["rows"]] == [
        (2, "sku"),
        (2, "barcodes"),
        (3, "sku"),
    ]
    assert await _count(sessions, tenant) == 2
