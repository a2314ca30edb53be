"""The operator console: server-rendered pages under /console in the API process.

A sub-application mounted by api/app.py. Its pages read and act through the API's own
routes in process (console/api_client.py), as the signed-in key, so a page can show
only what that key may read and a button is refused exactly as the API refuses it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from console.api_client import ApiTransport, Refusal
from console.pages import PAGES
from console.rendering import render, sign_in_page
from console.session import COOKIE, FormRefused, KeySeal, SignInNeeded, end_session
from settings import Settings

log = logging.getLogger(__name__)

PREFIX = "/console"
STATIC = Path(__file__).parent / "static"

# Pages are the console's own: scripts, styles and images from this server only,
# never framed, never cached (they show one operator's view of live stock).
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def temporal_ui_base(settings: Settings) -> str:
    return (settings.temporal_ui_url or f"http://127.0.0.1:{settings.temporal_ui_port}").rstrip("/")


def create_console(api: FastAPI, settings: Settings) -> FastAPI:
    console = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    console.state.api_transport = ApiTransport(api)
    console.state.session_minutes = settings.console_session_minutes
    ui, namespace = temporal_ui_base(settings), quote(settings.temporal_namespace, safe="")
    console.state.temporal_run_url = lambda workflow_id: (
        f"{ui}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"
    )
    if settings.console_secret is None:
        log.warning(
            "OMS_CONSOLE_SECRET is not set: console sessions end when this process restarts"
        )
        secret = secrets.token_urlsafe(32)
    else:
        secret = settings.console_secret.get_secret_value()
    console.state.key_seal = KeySeal(secret)
    console.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=COOKIE,
        max_age=None,  # a browser-session cookie; the console expires it by last use
        path=PREFIX,
        same_site="strict",
        https_only=settings.console_secure_cookie,
    )

    @console.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        if not request.url.path.startswith(f"{PREFIX}/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    _install_error_pages(console)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in PAGES:
        console.include_router(router)
    return console


def _install_error_pages(console: FastAPI) -> None:
    @console.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, error: SignInNeeded) -> HTMLResponse:
        return sign_in_page(request, message=error.message, status=401, next_url=_here(request))

    @console.exception_handler(FormRefused)
    async def form_refused(request: Request, _: FormRefused) -> HTMLResponse:
        return render(
            request,
            "error.html",
            None,
            status=403,
            title="Form refused",
            detail="This form did not carry the console's security token for your session "
            "(it was sent from elsewhere, or the page is older than your session). "
            "Nothing was changed. Reload the page and try again.",
        )

    @console.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> HTMLResponse:
        if error.status == 401:  # the key was revoked while signed in
            end_session(request)
            return sign_in_page(
                request,
                message="Your API key is no longer accepted; sign in with a valid one.",
                status=401,
                next_url=_here(request),
            )
        return render(
            request, "error.html", None, status=error.status, title=error.title, problem=error
        )

    @console.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> HTMLResponse:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in error.errors()
        ]
        problem = Refusal(
            status=422, title="Invalid request", detail="Check the page's address.", errors=problems
        )
        return render(request, "error.html", None, status=422, title=problem.title, problem=problem)

    @console.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        return render(
            request, "error.html", None, status=error.status_code, title=str(error.detail)
        )


def _here(request: Request) -> str:
    """Where to come back after signing in: this page (a form's page for a POST is
    not known: the overview)."""
    if request.method != "GET":
        return f"{PREFIX}/"
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{PREFIX}{request.url.path.removeprefix(PREFIX)}{query}"
