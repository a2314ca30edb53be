"""Typed dependencies: a session per request, the caller's principal, role checks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.openapi import REQUIRED_IN_OPENAPI
from api.problems import Problem
from api.resources import Resources
from api.schemas.common import Printable
from db.stock.operation import Caller
from db.tenants import Principal, authenticate
from domain.roles import ADMIN_ROLES, ORDER_ROLES, WAREHOUSE_ROLES, Role
from observability import context

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer oms_…`")


async def get_resources(request: Request) -> Resources:
    """The process's resources, after a pass of the event loop: a request whose
    key is cached otherwise never yields, and sixteen in-process clients in a loop
    starve every other task (tests/e2e/test_key_revocation.py). (A plain `def`,
    which FastAPI runs in a worker thread, yielded too, at the cost of a thread
    hand-off per request.)"""
    await asyncio.sleep(0)
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the route returns without error."""
    async with resources.sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads, statement by statement (no snapshot
    across them): each read is one round trip (Resources.reads)."""
    async with resources.reads() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_principal(
    request: Request,
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Problem(
            401, "unauthenticated", "missing API key (Authorization: Bearer …)", headers=_CHALLENGE
        )
    principal = resources.principals.get(credentials.credentials)
    if principal is None:

        async def read() -> Principal | None:
            async with resources.sessions() as session:
                return await authenticate(session, credentials.credentials)

        principal = await resources.principals.read_once(credentials.credentials, read)
        if principal is None or resources.principals.is_revoked(principal.key_id):
            raise Problem(401, "unauthenticated", "invalid or revoked API key", headers=_CHALLENGE)
        resources.principals.put(credentials.credentials, principal)
    context.bind(tenant_id=principal.tenant_id, key_id=principal.key_id)
    request.state.tenant_id = principal.tenant_id  # whose items an error's quantities are
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets only these roles through (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Problem(
                403, "forbidden", f"role {principal.role.value!r} may not do this (needs {names})"
            )
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_role(*ADMIN_ROLES))]
WmsWriterDep = Annotated[Principal, Depends(require_role(*WAREHOUSE_ROLES))]
OmsWriterDep = Annotated[Principal, Depends(require_role(*ORDER_ROLES))]

IdempotencyKeyHeader = Annotated[
    Annotated[str, Printable(max_length=200)] | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request with the same key to get the first answer again, "
        "with no second effect.",
    ),
]

StockIdempotencyKeyHeader = Annotated[
    Annotated[str, Printable(max_length=200)] | None,
    Header(
        alias="Idempotency-Key",
        description="Required for every stock change (400 without it). Repeat a request "
        "with the same key to get the first answer again, with no second effect; the same "
        "key with another body is refused (409).",
        json_schema_extra={REQUIRED_IN_OPENAPI: True},
    ),
]


def caller_for(principal: Principal, key: str | None, *, required: bool) -> Caller:
    """The caller of a mutation. Stock mutations need the client's key; other
    creations get a fresh one when the client sends none."""
    if key is None:
        if required:
            raise Problem(
                400,
                "idempotency-key-required",
                "stock changes need an Idempotency-Key header",
                field="Idempotency-Key",
            )
        key = f"auto-{uuid.uuid4().hex}"
    return Caller(principal.tenant_id, key, principal.actor)
