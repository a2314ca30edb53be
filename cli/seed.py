"""The demo tenant: what `oms dev` and `oms seed` put in an empty database."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.tenants import authenticate, create_api_key, ensure_tenant
from domain.roles import Role

DEMO_TENANT = "demo"


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
                issued = await create_api_key(session, tenant, role, f"demo {role.value}")
                keys[role] = issued.plaintext
    _write_keys(keys_file, keys)
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
