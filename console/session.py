"""Who is signed in to the console, and proof that a form came from the console.

The session is Starlette's signed cookie (HttpOnly, SameSite=Strict, path /console,
Secure when configured): it holds the API key the operator signed in with (sealed:
encrypted and authenticated with a key derived from the console secret, so the cookie
never shows it in clear), what
`/v1/me` said of it, the time of the last request (a session unused for
`OMS_CONSOLE_SESSION_MINUTES` has expired) and the CSRF token every form carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request
from starlette.datastructures import FormData

from console.api_client import ApiTransport, ConsoleApi
from domain.roles import ADMIN_ROLES, ORDER_ROLES, WAREHOUSE_ROLES, Role
from observability import context

COOKIE = "oms_console"
CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """No session, or one that expired: the page answers with the sign-in form (401)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "")
        self.message = message


class FormRefused(Exception):
    """A form without the console's token for this session (403, nothing done)."""


class KeySeal:
    """Seals the API key kept in the session cookie (Fernet: AES-CBC + HMAC-SHA256)."""

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"oms-console-key-seal:" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, key: str) -> str:
        return self._fernet.encrypt(key.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


@dataclass(frozen=True, kw_only=True)
class Can:
    """What the signed-in role may do: the same role sets the API checks."""

    role: Role

    @property
    def warehouse(self) -> bool:  # stock changes, confirmations, alerts
        return self.role in WAREHOUSE_ROLES

    @property
    def orders(self) -> bool:  # orders, holds, returns
        return self.role in ORDER_ROLES

    @property
    def admin(self) -> bool:  # master data
        return self.role in ADMIN_ROLES


@dataclass(frozen=True, kw_only=True)
class Operator:
    """The signed-in operator: their tenant and role, and the API as they see it."""

    tenant: str
    role: Role
    key_id: str
    api: ConsoleApi
    csrf: str

    @property
    def can(self) -> Can:
        return Can(role=self.role)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def start_session(request: Request, key: str, me: Mapping[str, Any]) -> None:
    """A new session for this key (a new CSRF token too: nothing carries over)."""
    request.session.clear()
    request.session.update(
        key=_seal(request).seal(key),
        tenant=str(me["tenant"]),
        role=str(me["role"]),
        key_id=str(me["key_id"]),
        seen=int(time.time()),
        csrf=secrets.token_urlsafe(32),
    )


def end_session(request: Request) -> None:
    request.session.clear()


def flash(request: Request, message: str) -> None:
    """A message shown once, on the next page (after a redirect)."""
    request.session["flash"] = message


def take_flash(request: Request) -> str | None:
    message = request.session.pop("flash", None)
    return message if isinstance(message, str) else None


def transport(request: Request) -> ApiTransport:
    transport: ApiTransport = request.app.state.api_transport
    return transport


def _seal(request: Request) -> KeySeal:
    seal: KeySeal = request.app.state.key_seal
    return seal


def _session_minutes(request: Request) -> int:
    minutes: int = request.app.state.session_minutes
    return minutes


async def current_operator(request: Request) -> Operator:
    session = request.session
    key = session.get("key")
    if not isinstance(key, str):
        stale = request.cookies.get(COOKIE) is not None and not session
        raise SignInNeeded("Your session has ended; sign in again." if stale else None)
    now = int(time.time())
    minutes = _session_minutes(request)
    if now - int(session.get("seen", 0)) > minutes * 60:
        end_session(request)
        raise SignInNeeded(
            f"Your session expired after {minutes} minutes without use; sign in again."
        )
    api_key = _seal(request).open(key)
    if api_key is None:  # sealed under another secret (rotated): a session no longer
        end_session(request)
        raise SignInNeeded("Your session has ended; sign in again.")
    session["seen"] = now
    return Operator(
        tenant=str(session.get("tenant")),
        role=Role(str(session.get("role"))),
        key_id=str(session.get("key_id")),
        api=transport(request).as_caller(api_key, context.current().get("request_id")),
        csrf=csrf_token(request),
    )


OperatorDep = Annotated[Operator, Depends(current_operator)]


class Form:
    """A posted form whose CSRF token matched the session's. Blank fields read as None."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def get(self, name: str) -> str | None:
        value = self._data.get(name)
        if not isinstance(value, str):
            return None
        value = value.strip()
        return value or None

    def fields(self) -> dict[str, str]:
        """Every filled field but the token (to put back in a refused form)."""
        return {
            k: v.strip()
            for k, v in self._data.multi_items()
            if isinstance(v, str) and v.strip() and k != CSRF_FIELD
        }

    @property
    def idempotency_key(self) -> str | None:
        """The key the form was rendered with: a double submit is one change."""
        return self.get("idempotency_key")


async def read_form(request: Request) -> Form:
    """The posted form, if it carries this session's CSRF token (else FormRefused)."""
    data = await request.form()
    sent = data.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise FormRefused
    return Form(data)


async def checked_form(request: Request, _: OperatorDep) -> Form:
    """A signed-in operator's form: the session is checked first (an expired one asks
    to sign in again), then the token."""
    return await read_form(request)


FormDep = Annotated[Form, Depends(checked_form)]


def new_idempotency_key() -> str:
    """For a form that changes stock: rendered into it, sent as Idempotency-Key."""
    return f"console-{secrets.token_hex(16)}"
