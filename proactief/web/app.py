"""The web app: sign-in, the pages of each role, and what every page shares.

`create_app` builds the FastAPI application from `WebSettings`; `proactief web`
serves it with uvicorn. Pages are rendered on the server from the templates beside
this module, with one stylesheet and no script, so they work with the keyboard
alone and with a screen reader, in any browser.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote as url_quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from proactief.documents.formatting import format_date, format_euro
from proactief.store import Store
from proactief.web import labels
from proactief.web.accounts import ROLE_LABELS, Accounts, LoginResult, SignedIn
from proactief.web.security import (
    ANYONE,
    DESK,
    LOGIN_COOKIE,
    REVIEW,
    SESSION_COOKIE,
    SUPERVISE,
    BadCsrfToken,
    NotSignedIn,
    WrongRole,
    check_csrf,
    current_user,
    may,
    require,
)
from proactief.web.settings import WebSettings

log = logging.getLogger("proactief.web")
HERE = Path(__file__).parent
BRUSSELS = ZoneInfo("Europe/Brussels")

templates = Jinja2Templates(directory=HERE / "templates")


def _local(moment: datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BRUSSELS).strftime(pattern)


def _day(value: date | None) -> str:
    return "" if value is None else format_date(value)


templates.env.filters["lokaal"] = _local
templates.env.filters["dag"] = _day
templates.env.filters["euro"] = format_euro
templates.env.globals["labels"] = labels
templates.env.globals["ROLE_LABELS"] = ROLE_LABELS


def page(
    request: Request,
    name: str,
    user: SignedIn | None,
    status_code: int = 200,
    **context,
) -> HTMLResponse:
    """Render a page with what the layout needs: the user, the menu, the token."""
    menu = []
    if may(user, DESK):
        menu.append(("/balie", "Balie: UiTPAS"))
    if may(user, REVIEW):
        menu.append(("/beoordeling", "Beoordelingen"))
    if may(user, SUPERVISE):
        menu.append(("/audit", "Auditlog"))
    return templates.TemplateResponse(
        request,
        name,
        {"user": user, "menu": menu, "path": request.url.path, **context},
        status_code=status_code,
    )


_LONG_NUMBER = re.compile(r"\d{5,}")


def _route_of(request: Request) -> str:
    """The page asked for, as its route ("/beoordeling/{case_id}") where known;
    otherwise the path with long numbers masked: it may hold a national number."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return _LONG_NUMBER.sub("…", path)[:200]


def _safe_next(target: str | None) -> str:
    """Only a path of this site is a place to go after signing in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


class _TypeOnly(logging.Filter):
    """Keeps a traceback out of the server's log: an exception's message or its
    frames may hold what a user typed (a national number). The type remains."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            kind = type(record.exc_info[1]).__name__
            record.msg = f"{record.getMessage()} ({kind}; traceback withheld)"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def _withhold_tracebacks() -> None:
    for name in ("uvicorn.error", "uvicorn", "fastapi"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _TypeOnly) for f in logger.filters):
            logger.addFilter(_TypeOnly())


class HeadAsGet:
    """Answers HEAD as GET without the body, as HTTP wants for every page."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def create_app(settings: WebSettings, store_url: str | None = None) -> FastAPI:
    from proactief.web import audit, desk, review
    from proactief.web.api import create_api

    store = Store(store_url or settings.core.database_url)
    _withhold_tracebacks()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with desk.DeskService(settings, store) as service:
            app.state.desk = service
            yield

    app = FastAPI(
        title="Proactief",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.accounts = Accounts(store, settings.login, settings.sessions)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount(
        "/api",
        create_api(
            store,
            lambda: app.state.desk,
            settings.core.allow_test_numbers,
            settings.core.pseudonym_key,
        ),
    )

    app.add_middleware(HeadAsGet)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; form-action 'self'; frame-ancestors 'none';"
            " base-uri 'none'"
        )
        return response

    # -- errors: in Dutch, and never echoing what was typed --------------------

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(
                f"/aanmelden?volgende={url_quote(target, safe='')}", status_code=303
            )
        return page(
            request,
            "error.html",
            None,
            status_code=401,
            title="Niet aangemeld",
            message="Uw sessie is verlopen of u bent niet aangemeld. Meld u opnieuw aan.",
        )

    @app.exception_handler(WrongRole)
    async def wrong_role(request: Request, exc: WrongRole) -> Response:
        await run_in_threadpool(
            store.audit,
            exc.user.username,
            "access_refused",
            detail=_route_of(request),
        )
        return page(
            request,
            "error.html",
            exc.user,
            status_code=403,
            title="Geen toegang",
            message=(
                "Met uw rol ("
                + ROLE_LABELS[exc.user.role]
                + ") kunt u deze pagina niet openen. Vraag een beheerder als u"
                " denkt dat dit niet klopt."
            ),
        )

    @app.exception_handler(BadCsrfToken)
    async def bad_csrf(request: Request, _exc: BadCsrfToken) -> Response:
        return page(
            request,
            "error.html",
            current_user(request),
            status_code=403,
            title="Formulier geweigerd",
            message=(
                "Dit formulier is verlopen of kwam niet van deze toepassing. Open de"
                " pagina opnieuw en probeer nog eens."
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Pagina niet gevonden", 405: "Niet toegelaten"}
        return page(
            request,
            "error.html",
            current_user(request),
            status_code=exc.status_code,
            title=titles.get(exc.status_code, "Fout"),
            message=(
                "Deze pagina bestaat niet."
                if exc.status_code == 404
                else "Deze vraag kan hier niet beantwoord worden."
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # FastAPI's own answer quotes the input, which may be a national number.
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            return page(  # /beoordeling/abc: no such page
                request,
                "error.html",
                current_user(request),
                status_code=404,
                title="Pagina niet gevonden",
                message="Deze pagina bestaat niet.",
            )
        return page(
            request,
            "error.html",
            current_user(request),
            status_code=400,
            title="Onvolledig formulier",
            message="Het formulier was niet volledig ingevuld. Probeer opnieuw.",
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The type only: a message may hold what a user typed.
        log.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            request.url.path,
        )
        return page(
            request,
            "error.html",
            None,
            status_code=500,
            title="Er ging iets mis",
            message=(
                "Er ging iets mis aan onze kant. Er werd niets bewaard. Probeer"
                " opnieuw of meld het aan de beheerder."
            ),
        )

    # -- signing in and out ----------------------------------------------------

    def login_page(
        request: Request, error: str | None = None, status_code: int = 200
    ) -> HTMLResponse:
        import secrets

        token = secrets.token_urlsafe(32)
        response = page(
            request,
            "login.html",
            None,
            status_code=status_code,
            csrf_token=token,
            error=error,
            next=_safe_next(request.query_params.get("volgende")),
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
            max_age=3600,
        )
        return response

    @app.get("/aanmelden", response_class=HTMLResponse)
    async def login_form(request: Request) -> Response:
        if current_user(request) is not None:
            return RedirectResponse("/", status_code=303)
        return login_page(request)

    @app.post("/aanmelden")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        volgende: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        check_csrf(request.cookies.get(LOGIN_COOKIE, ""), csrf_token)
        accounts: Accounts = app.state.accounts
        result, account = await run_in_threadpool(
            accounts.authenticate, username, password
        )
        actor = account.username if account else "(onbekend)"
        if result is LoginResult.OK:
            token = await run_in_threadpool(accounts.start_session, account)
            await run_in_threadpool(store.audit, actor, "login_succeeded")
            response = RedirectResponse(_safe_next(volgende), status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=settings.secure_cookies,
            )
            response.delete_cookie(LOGIN_COOKIE)
            return response
        if result is LoginResult.JUST_LOCKED:
            await run_in_threadpool(store.audit, actor, "account_locked")
        elif result is LoginResult.LOCKED:
            await run_in_threadpool(store.audit, actor, "login_refused_locked")
        else:
            await run_in_threadpool(store.audit, actor, "login_failed")
        if result in (LoginResult.LOCKED, LoginResult.JUST_LOCKED):
            until = _local(account.locked_until, "%H:%M")
            error = (
                f"Dit account is vergrendeld na {settings.login.max_failures} foute"
                f" wachtwoorden na elkaar. Probeer opnieuw na {until} of vraag een"
                " beheerder om het te ontgrendelen."
            )
        elif result is LoginResult.DISABLED:
            error = "Dit account is uitgeschakeld. Vraag een beheerder."
        else:
            error = "Gebruikersnaam of wachtwoord klopt niet."
        return login_page(request, error, status_code=401)

    @app.post("/afmelden")
    async def logout(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        user = require(ANYONE)(request)
        check_csrf(user.csrf_token, csrf_token)
        await run_in_threadpool(
            app.state.accounts.end_session, request.cookies.get(SESSION_COOKIE)
        )
        await run_in_threadpool(store.audit, user.username, "logout")
        response = RedirectResponse("/aanmelden", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        user = require(ANYONE)(request)
        if may(user, DESK) and not may(user, REVIEW):
            return RedirectResponse("/balie", status_code=303)
        return page(request, "home.html", user)

    app.include_router(desk.router)
    app.include_router(review.router)
    app.include_router(audit.router)
    return app
