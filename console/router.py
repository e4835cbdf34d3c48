"""The console's server side: signing in and out, one guarded page per role, its static files.

Every page is the same HTML shell naming the view's ES module; the module then calls the JSON
API. A page is served only to a caller the API would let in under the same rule
(``core.access.authorize``): signed out, it redirects to the sign-in page; signed in without
the role, it says which role the page needs.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, model_validator

from core.access import CsrfFailed, authorize, public_route, require_roles, same_origin
from core.auth import Principal, Role
from core.browser_sessions import (
    SESSION_COOKIE,
    StartedSession,
    csrf_token,
    end_session,
    sign_in_with_link,
    sign_in_with_token,
)
from core.errors import ClearframeError, Forbidden, Unauthenticated
from core.openapi import problems
from core.services import Services
from core.settings import Environment

STATIC = Path(__file__).parent / "static"

# What a console page may load and do: only this origin's scripts and styles, nothing inline,
# no frames, no plugins; media from this origin and from blob: URLs (a dropped clip's preview).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class View:
    """One role's page: ``/console/<slug>``, its module ``static/js/views/<module>.js``."""

    slug: str
    title: str
    module: str
    roles: frozenset[Role]


VIEWS = (
    View("review", "Review", "reviewer", frozenset({Role.reviewer})),
    View("investigate", "Investigate", "investigator", frozenset({Role.investigator})),
    View("rights", "Rights", "rights_holder", frozenset({Role.rights_holder})),
    View("me", "My videos", "user", frozenset({Role.user})),
    View("admin", "Admin", "admin", frozenset({Role.admin})),
)


def may_open(principal: Principal, view: View) -> bool:
    # the API's rule: admins always may
    return principal.has(*(view.roles | {Role.admin}))


def home_of(principal: Principal) -> str:
    for view in VIEWS:
        if may_open(principal, view):
            return f"/console/{view.slug}"
    return "/console/sign-in"


router = APIRouter(prefix="/console", tags=["console"])


def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@cache
def _shell() -> Template:
    return Template((STATIC / "shell.html").read_text(encoding="utf-8"))


def _page(
    title: str,
    module: str | None,
    *,
    principal: Principal | None = None,
    csrf: str = "",
    main: str = '<p class="loading" role="status">Loading…</p>',
    status: int = 200,
) -> Response:
    if principal is not None:
        links = "".join(
            f'<a href="/console/{v.slug}">{html.escape(v.title)}</a>'
            for v in VIEWS
            if may_open(principal, v)
        )
        header = (
            f'<nav aria-label="Views">{links}</nav>'
            f'<span class="who">{html.escape(principal.name)}</span>'
            '<button id="sign-out" type="button">Sign out</button>'
        )
    else:
        header = ""
    script = (
        f'<script type="module" src="/console/static/js/views/{module}.js"></script>'
        if module
        else ""
    )
    if module and (STATIC / "css" / f"{module}.css").is_file():
        # a view's own styles, beside the shared sheet: each view owns its files
        script += f'\n<link rel="stylesheet" href="/console/static/css/{module}.css">'

    body = _shell().substitute(
        title=html.escape(title),
        csrf=html.escape(csrf),
        roles=html.escape(" ".join(sorted(r.value for r in principal.roles)) if principal else ""),
        principal=html.escape(principal.id if principal else ""),
        script=script,
        header=header,
        main=main,
    )
    return _secure(HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"}))


class PageVisitor:
    """Who asks for a page: the principal, or why they may not see it."""

    def __init__(
        self, principal: Principal | None, refusal: ClearframeError | None, csrf: str
    ) -> None:
        self.principal, self.refusal, self.csrf = principal, refusal, csrf


def page_visitor(*roles: Role) -> Any:
    """The role check of a page: ``core.access.authorize``, the API's own rule, with its
    refusal kept so that the page can answer in HTML (a redirect, a page saying why)."""
    allowed = frozenset(roles) | {Role.admin}

    def dependency(request: Request) -> PageVisitor:
        try:
            principal = authorize(request, allowed)
        except (Unauthenticated, Forbidden) as exc:
            return PageVisitor(None, exc, "")
        secret = request.cookies.get(SESSION_COOKIE, "")
        services: Services = request.app.state.services
        return PageVisitor(principal, None, csrf_token(services.settings, secret) if secret else "")

    dependency.__clearframe_roles__ = allowed  # type: ignore[attr-defined]
    return dependency


def _refused(request: Request, visitor: PageVisitor, view: View) -> Response:
    if isinstance(visitor.refusal, Unauthenticated):
        target = quote(request.url.path, safe="/")
        return _secure(RedirectResponse(f"/console/sign-in?next={target}", status_code=303))
    needed = ", ".join(sorted(r.value.replace("_", " ") for r in view.roles))
    main = (
        '<section class="notice" aria-labelledby="refused"><h1 id="refused">Not for this '
        f"account</h1><p>The {html.escape(view.title)} page needs the role: "
        f"{html.escape(needed)}. Ask an administrator for it, or "
        '<a href="/console">go to your own pages</a>.</p></section>'
    )
    return _page("Not allowed", None, main=main, status=403)


def _view_route(view: View) -> None:
    guard = Depends(page_visitor(*view.roles))

    # a default, not Annotated: this module's annotations are strings, and a local alias in
    # one would not resolve when FastAPI reads the signature
    def page(request: Request, visitor: PageVisitor = guard) -> Response:
        if visitor.principal is None:
            return _refused(request, visitor, view)
        return _page(view.title, view.module, principal=visitor.principal, csrf=visitor.csrf)

    page.__name__ = f"console_{view.module}"
    router.add_api_route(
        f"/{view.slug}", page, methods=["GET"], include_in_schema=False, response_model=None
    )


for _view in VIEWS:
    _view_route(_view)


EveryRole = Annotated[PageVisitor, Depends(page_visitor(*Role))]


@router.get("", include_in_schema=False, response_model=None)
def console_home(visitor: EveryRole) -> Response:
    """The console's address: a signed-in person's first page, or the sign-in page."""
    if visitor.principal is None:
        return _secure(RedirectResponse("/console/sign-in", status_code=303))
    return _secure(RedirectResponse(home_of(visitor.principal), status_code=303))


@router.get(
    "/sign-in",
    include_in_schema=False,
    dependencies=[Depends(public_route())],
    response_model=None,
)
def sign_in_page() -> Response:
    return _page("Sign in", "sign_in")


# ---- the session: JSON, for the console's own scripts ----


class SignIn(BaseModel):
    """Either an API token or a one-time sign-in link's secret (from its URL's #link=...)."""

    token: str | None = Field(default=None, min_length=1, max_length=200)
    link: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_credential(self) -> SignIn:
        if (self.token is None) == (self.link is None):
            raise ValueError("send exactly one of token or link")
        return self


class SessionPublic(BaseModel):
    principal_id: str
    name: str
    roles: list[str]
    home: str = Field(description="the first console page this principal may open")
    views: list[str] = Field(description="the console pages this principal may open")
    csrf_token: str | None = Field(
        description="send as X-CSRF-Token with every request that changes state; "
        "null when the caller used a bearer token (no cookie, no CSRF)"
    )
    expires_at: datetime | None = None


def _session_public(
    principal: Principal, csrf: str | None, expires_at: datetime | None
) -> SessionPublic:
    return SessionPublic(
        principal_id=principal.id,
        name=principal.name,
        roles=sorted(r.value for r in principal.roles),
        home=home_of(principal),
        views=[f"/console/{v.slug}" for v in VIEWS if may_open(principal, v)],
        csrf_token=csrf,
        expires_at=expires_at,
    )


def _cookie_secure(request: Request, services: Services) -> bool:
    setting = services.settings.cookie_secure
    if setting is not None:
        return setting
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        services.settings.env is Environment.production
        or request.url.scheme == "https"
        or forwarded.split(",")[0].strip() == "https"
    )


@router.post(
    "/session",
    status_code=201,
    response_model=SessionPublic,
    dependencies=[Depends(public_route())],
    responses=problems(400, 401, 403, 413, 422, 503),
)
def start_session(body: SignIn, request: Request, response: Response) -> SessionPublic:
    """Sign in: exchange an API token or a one-time link for an HttpOnly session cookie."""
    # A sign-in posted by another site would sign the visitor in to the attacker's account.
    if not same_origin(request):
        raise CsrfFailed("a sign-in must come from the console's own page")
    services: Services = request.app.state.services
    started: StartedSession
    if body.token is not None:
        started = sign_in_with_token(services.sessions, services.settings, body.token)
    else:
        assert body.link is not None
        started = sign_in_with_link(services.sessions, services.settings, body.link)
    response.set_cookie(
        SESSION_COOKIE,
        started.secret,
        max_age=services.settings.session_ttl_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_cookie_secure(request, services),
    )
    response.headers["Cache-Control"] = "no-store"
    return _session_public(
        started.principal, csrf_token(services.settings, started.secret), started.expires_at
    )


AnyRole = Annotated[Principal, Depends(require_roles(*Role))]


@router.get("/session", response_model=SessionPublic, responses=problems(401, 503))
def current_session(request: Request, principal: AnyRole) -> SessionPublic:
    """Who is signed in, the pages they may open, and the CSRF token of their session."""
    services: Services = request.app.state.services
    secret = request.cookies.get(SESSION_COOKIE) if "authorization" not in request.headers else None
    return _session_public(
        principal, csrf_token(services.settings, secret) if secret else None, None
    )


@router.delete("/session", status_code=204, responses=problems(401, 403, 503))
def sign_out(request: Request, principal: AnyRole) -> Response:
    """Sign out: the session ends on the server (BrowserSessionEnded) and the cookie goes."""
    services: Services = request.app.state.services
    session_id = getattr(request.state, "session_id", None)
    if session_id is None:
        raise Forbidden("signing out ends a console session; this request used a bearer token")
    end_session(services.sessions, session_id, actor=principal.actor())
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# ---- static files ----

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


@cache
def _static_file(relative: str) -> tuple[bytes, str, str] | None:
    root = STATIC.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file() or path.suffix not in _TYPES:
        return None
    data = path.read_bytes()
    return data, _TYPES[path.suffix], '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@router.get(
    "/static/{file_path:path}",
    include_in_schema=False,
    dependencies=[Depends(public_route())],
    response_model=None,
)
def static_file(file_path: str, request: Request) -> Response:
    """The console's own code and styles (no data): public, revalidated by ETag."""
    found = _static_file(file_path) if len(file_path) <= 200 else None
    if found is None:
        return _secure(Response("no such console file", status_code=404, media_type="text/plain"))
    data, media_type, etag = found
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return _secure(Response(status_code=304, headers=headers))
    return _secure(Response(data, media_type=media_type, headers=headers))

