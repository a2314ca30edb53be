"""Tenants and API keys: the queries behind auth, `oms keys` and the seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, Tenant
from domain.api_keys import generate_key, parse_key, secret_matches
from domain.errors import Conflict, NotFound
from domain.roles import Role
from domain.tenants import validate_tenant_slug


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and role of a valid API key."""

    tenant_id: int
    tenant: str
    role: Role
    key_id: str

    @property
    def actor(self) -> str:
        """How records name this caller (ledger actor, who made or revoked a key)."""
        return f"key:{self.key_id}"


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key; `plaintext` is shown once and never stored."""

    key_id: str
    tenant: str
    role: Role
    name: str
    plaintext: str
    created_at: datetime


async def ensure_tenant(session: AsyncSession, slug: str, name: str | None = None) -> Tenant:
    """The tenant with this slug, created when missing (race-safe)."""
    validate_tenant_slug(slug)
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is not None:
        return tenant
    from sqlalchemy.dialects.postgresql import insert

    await session.execute(
        insert(Tenant)
        .values(slug=slug, name=name or slug)
        .on_conflict_do_nothing(index_elements=[Tenant.slug])
    )
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    assert tenant is not None
    return tenant


async def get_tenant(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"tenant {slug!r} does not exist", field="tenant")
    return tenant


REVOCATIONS_CHANNEL = "oms_api_key_revoked"
"""Postgres NOTIFY channel: the key id of each revoked key, sent when the revoke commits."""


async def create_api_key(
    session: AsyncSession, tenant: Tenant, role: Role, name: str, *, created_by: str
) -> IssuedKey:
    """A new key; `created_by` says who made it (`key:<id>` of an admin, `cli`, `seed`)."""
    new = generate_key()
    row = ApiKey(
        tenant_id=tenant.id,
        key_id=new.key_id,
        secret_hash=new.secret_hash,
        role=role.value,
        name=name,
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row, ["created_at"])
    return IssuedKey(new.key_id, tenant.slug, role, name, new.plaintext, row.created_at)


async def authenticate(session: AsyncSession, plaintext: str) -> Principal | None:
    """The principal of a presented key, or None when it is unknown, wrong or revoked."""
    parsed = parse_key(plaintext)
    if parsed is None:
        return None
    row = (
        await session.execute(
            select(ApiKey, Tenant.slug)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.key_id == parsed.key_id, ApiKey.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    key, slug = row
    if not secret_matches(parsed.secret, key.secret_hash):
        return None
    return Principal(key.tenant_id, slug, Role(key.role), key.key_id)


async def list_api_keys(session: AsyncSession, tenant_id: int) -> list[ApiKey]:
    result = await session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id)
    )
    return list(result)


async def revoke_api_key(
    session: AsyncSession, tenant_id: int, key_id: str, *, revoked_by: str
) -> ApiKey:
    """Revoke a key of this tenant (a repeat changes nothing). The tenant's last
    active admin key is refused: nobody could manage the tenant's keys after it.
    Every API process hears of the revoke when the transaction commits (NOTIFY)."""
    # Revokes of one tenant queue on its row, so two admins revoking each other's
    # keys at once cannot both pass the last-admin check.
    await session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    key = await session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.key_id == key_id)
    )
    if key is None:
        raise NotFound(f"API key {key_id!r} does not exist", field="key_id")
    if key.revoked_at is not None:
        return key
    if key.role == Role.ADMIN.value and await _active_admins(session, tenant_id) <= 1:
        raise Conflict(
            f"API key {key_id!r} is the tenant's last active admin key; "
            "create another admin key before revoking it",
            field="key_id",
        )
    key.revoked_at = await session.scalar(select(func.now()))
    key.revoked_by = revoked_by
    await session.execute(
        text("SELECT pg_notify(:channel, :key_id)"),
        {"channel": REVOCATIONS_CHANNEL, "key_id": key_id},
    )
    return key


async def _active_admins(session: AsyncSession, tenant_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(
            ApiKey.tenant_id == tenant_id,
            ApiKey.role == Role.ADMIN.value,
            ApiKey.revoked_at.is_(None),
        )
    )
    return count or 0
