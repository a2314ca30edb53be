"""The demo tenant: what `oms dev` and `oms seed` put in an empty database.

Two warehouses with bins and a staging area, a few items of each kind, stock
received through the same idempotent operation the API uses (fixed keys, so a
second seed changes nothing), and one API key per role."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Awaitable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalogue import create_item, create_location, create_warehouse
from db.stock.on_hand import receive
from db.stock.operation import Caller
from db.tenants import authenticate, create_api_key, ensure_tenant
from domain.allocation import BackorderPolicy, Strategy
from domain.catalogue import ItemSpec, LocationSpec, LocationType, WarehouseSpec
from domain.errors import Conflict
from domain.quantities import Rounding, UnitOfMeasure
from domain.roles import Role
from domain.stock import ReceiptLine, ReceiveStock

DEMO_TENANT = "demo"

WAREHOUSES = [
    WarehouseSpec("BER", "Berlin", priority=1, timezone="Europe/Berlin"),
    WarehouseSpec("HAM", "Hamburg", priority=2, timezone="Europe/Berlin"),
]
LOCATIONS = [
    ("DOCK", LocationType.DOCK),
    ("A-01", LocationType.BIN),
    ("A-02", LocationType.BIN),
    ("B-01", LocationType.BIN),
    ("STAGE", LocationType.STAGING),
]
ITEMS = [
    ItemSpec("TSHIRT-M", "T-shirt, size M", backorder_policy=BackorderPolicy.ALLOW),
    ItemSpec("MUG", "Coffee mug"),
    ItemSpec(
        "FABRIC-RED",
        "Red cotton, by the yard",
        UnitOfMeasure("yd", 4, Decimal("0.25"), Decimal("1"), Rounding.UP),
    ),
    ItemSpec(
        "MILK-1L",
        "Milk, 1 litre",
        track_lot=True,
        track_expiry=True,
        default_strategy=Strategy.FEFO,
    ),
    ItemSpec("PHONE-X", "Phone X", track_serial=True),
]


def _receipts(today: date) -> list[tuple[str, ReceiveStock]]:
    soon, later = today + timedelta(days=5), today + timedelta(days=40)
    return [
        (
            "seed-receipt-ber",
            ReceiveStock(
                "BER",
                "A-01",
                [
                    ReceiptLine("TSHIRT-M", 40),
                    ReceiptLine("MUG", 12),
                    ReceiptLine("FABRIC-RED", 120),  # 30 yd in quarter-yards
                    ReceiptLine("MILK-1L", 24, "L-SOON", soon),
                    ReceiptLine("MILK-1L", 24, "L-LATER", later),
                    ReceiptLine("PHONE-X", 3, serials=["PX-0001", "PX-0002", "PX-0003"]),
                ],
                reference="seed",
            ),
        ),
        (
            "seed-receipt-ham",
            ReceiveStock(
                "HAM",
                "A-01",
                [
                    ReceiptLine("TSHIRT-M", 15),
                    ReceiptLine("MUG", 30),
                ],
                reference="seed",
            ),
        ),
    ]


async def seed_catalogue(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> None:
    """Warehouses, locations and items that are missing, then the demo receipts."""
    async with sessions() as session, session.begin():
        for spec in WAREHOUSES:
            locations = [LocationSpec(spec.code, code, kind) for code, kind in LOCATIONS]
            await _ignore_existing(create_warehouse(session, tenant_id, spec, locations))
            for location in locations:  # a warehouse seeded before gets what it lacks
                await _ignore_existing(create_location(session, tenant_id, location))
        for item in ITEMS:
            await _ignore_existing(create_item(session, tenant_id, item))
    for key, receipt in _receipts(date.today()):
        # Fixed keys: the second seed replays instead of receiving again. (The lot
        # dates move with today; a changed body under a used key is refused, so
        # a replay of an older seed is expected and fine.)
        with contextlib.suppress(Conflict):
            await receive(sessions, Caller(tenant_id, key, "seed"), receipt)


async def _ignore_existing(creation: Awaitable[object]) -> None:
    with contextlib.suppress(Conflict):
        await creation


async def seed_demo(sessions: async_sessionmaker[AsyncSession], keys_file: Path) -> dict[Role, str]:
    """Ensure the demo tenant and one working key per role; returns the keys.

    Keys are stored hashed, so their plaintext is kept in `keys_file` (inside the
    ignored data folder) to print them again on the next start. Keys in that file
    that no longer authenticate are replaced."""
    known = _read_keys(keys_file)
    async with sessions() as session, session.begin():
        tenant = await ensure_tenant(session, DEMO_TENANT, "Demo shop")
        keys: dict[Role, str] = {}
        for role in Role:
            known_key = known.get(role)
            principal = await authenticate(session, known_key) if known_key else None
            if (
                known_key
                and principal
                and (principal.tenant, principal.role) == (DEMO_TENANT, role)
            ):
                keys[role] = known_key
            else:
                issued = await create_api_key(
                    session, tenant, role, f"demo {role.value}", created_by="seed"
                )
                keys[role] = issued.plaintext
    _write_keys(keys_file, keys)
    await seed_catalogue(sessions, tenant.id)
    return keys


def _read_keys(path: Path) -> dict[Role, str]:
    try:
        raw = json.loads(path.read_text())
        return {Role(role): str(key) for role, key in raw.items()}
    except (OSError, ValueError):
        return {}


def _write_keys(path: Path, keys: dict[Role, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({role.value: key for role, key in keys.items()}, out, indent=2)
