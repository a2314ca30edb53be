"""Who am I, and the tenant's API keys (admin)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminDep, PrincipalDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.common import Identifier, Name
from db import tenants
from domain.roles import Role

router = api_router(prefix="/v1", tags=["access"])


class Me(BaseModel):
    tenant: str = Field(examples=["demo"])
    role: Role
    key_id: str = Field(examples=["3f9c0a1b2c4d"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: Name = Field(examples=["warehouse scanner 3"])


class ApiKeyPublic(BaseModel):
    key_id: str
    role: Role
    name: str
    created_at: datetime
    created_by: str = Field(
        description="who made it: `key:<key id>` of an admin, `cli` (oms keys), `seed`",
        examples=["key:3f9c0a1b2c4d"],
    )
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(None, examples=["key:3f9c0a1b2c4d"])


class ApiKeyIssued(ApiKeyPublic):
    key: str = Field(description="the key itself; shown only in this answer, store it now")


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]
    next_cursor: str | None = None


@router.get("/me", response_model=Me, summary="The tenant and role of the calling key")
async def me(principal: PrincipalDep) -> Me:
    return Me(tenant=principal.tenant, role=principal.role, key_id=principal.key_id)


@router.get("/api-keys", response_model=ApiKeyList, summary="The tenant's API keys (admin)")
async def list_keys(principal: AdminDep, session: SessionDep) -> ApiKeyList:
    rows = await tenants.list_api_keys(session, principal.tenant_id)
    return ApiKeyList(
        items=[ApiKeyPublic.model_validate(row, from_attributes=True) for row in rows]
    )


@router.post(
    "/api-keys",
    response_model=ApiKeyIssued,
    status_code=201,
    summary="Create an API key for this tenant (admin)",
    description="Not replayed by Idempotency-Key: the secret is never stored, so a retried "
    "call makes a second key. Revoke the one you do not keep.",
)
async def create_key(body: ApiKeyCreate, principal: AdminDep, session: SessionDep) -> ApiKeyIssued:
    tenant = await tenants.get_tenant(session, principal.tenant)
    issued = await tenants.create_api_key(
        session, tenant, body.role, body.name, created_by=principal.actor
    )
    return ApiKeyIssued(
        key_id=issued.key_id,
        role=issued.role,
        name=issued.name,
        created_at=issued.created_at,
        created_by=principal.actor,
        key=issued.plaintext,
    )


@router.post(
    "/api-keys/{key_id}/revoke",
    response_model=ApiKeyPublic,
    summary="Revoke an API key of this tenant (admin); repeating it changes nothing",
    description="The key is refused from the moment this answers, by this API process "
    "and, within milliseconds, by every other one (at most `OMS_API_KEY_CACHE_SECONDS` "
    "while a process has lost its database connection). The tenant's last active admin "
    "key cannot be revoked (409): create another admin key first.",
)
async def revoke_key(
    key_id: Identifier, principal: AdminDep, resources: ResourcesDep
) -> ApiKeyPublic:
    async with resources.sessions() as session, session.begin():
        row = await tenants.revoke_api_key(
            session, principal.tenant_id, key_id, revoked_by=principal.actor
        )
    # Only now, after the commit: a request reading the key from the database
    # before it could otherwise cache it again.
    resources.principals.revoke(key_id)
    return ApiKeyPublic.model_validate(row, from_attributes=True)
