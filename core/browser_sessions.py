"""Console sign-in: browser sessions started from an API token or a one-time login link.

A browser never holds an API token. Signing in exchanges a token (or a link an operator issued
with `clearframe principal login-link`) for a session secret kept in an HttpOnly,
SameSite=Strict cookie; ``core.access`` accepts that cookie wherever it accepts a bearer
token, under the same role rules. Like tokens, secrets are stored only as an HMAC keyed with
the deployment's secret, and every sign-in, link and sign-out is an event on the principal's
identity stream (the audit trail).

A cookie rides on every request the browser makes, so a request that changes state must also
prove it came from the console: the ``X-CSRF-Token`` header carries a value derived from the
session secret (an HMAC under a separate label), which a page of another origin can neither
read nor compute. The console reads it from ``GET /console/session``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, String, Uuid, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.auth import (
    ApiToken,
    Principal,
    PrincipalRow,
    _record,
    authenticate,
    hash_token,
    principal_from_row,
)
from core.db import Base, transaction
from core.errors import NotFound, Unauthenticated, ValidationFailed
from core.events import SYSTEM_ACTOR, Actor, utcnow
from core.identity import (
    HASH_PREFIX_CHARS,
    BrowserSessionEnded,
    BrowserSessionStarted,
    LoginLinkIssued,
    SessionEndReason,
    SignInMethod,
)
from core.settings import Settings
from core.transient import retry_transient

SESSION_COOKIE = "cf_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_PREFIX = "cfs_"
LINK_PREFIX = "cfl_"
# a login link is for one sign-in soon after it is issued; longer-lived access is a token
MAX_LINK_TTL_S = 24 * 3600


class BrowserSessionRow(Base):
    __tablename__ = "browser_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    principal_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("principals.id", ondelete="CASCADE"), nullable=False, index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    # the API token a token sign-in used: revoking the token ends the session with it
    token_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginLinkRow(Base):
    __tablename__ = "login_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    principal_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("principals.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class StartedSession:
    """A new session: its secret goes into the cookie and is never shown again."""

    session_id: uuid.UUID
    secret: str
    expires_at: datetime
    principal: Principal


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (in UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def csrf_token(settings: Settings, secret: str) -> str:
    """The value a state-changing request of this session must send in ``X-CSRF-Token``."""
    return hmac.new(
        settings.secret_key.encode(), b"csrf:" + secret.encode(), hashlib.sha256
    ).hexdigest()


def csrf_matches(settings: Settings, secret: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(settings, secret), sent or "")


def issue_login_link(
    sessions: sessionmaker[Session],
    settings: Settings,
    principal_id: str,
    ttl_s: int,
    *,
    actor: Actor = SYSTEM_ACTOR,
) -> tuple[uuid.UUID, str, datetime]:
    """A one-time link secret for ``principal_id``: (link id, secret, expiry)."""
    if not 60 <= ttl_s <= MAX_LINK_TTL_S:
        raise ValidationFailed(f"a login link lives 60 to {MAX_LINK_TTL_S} seconds")
    secret = LINK_PREFIX + secrets.token_urlsafe(32)
    link_id = uuid.uuid4()
    expires_at = utcnow() + timedelta(seconds=ttl_s)
    with transaction(sessions) as s:
        row = s.get(PrincipalRow, principal_id)
        if row is None:
            raise NotFound(f"no principal {principal_id}")
        if row.disabled_at is not None:
            raise ValidationFailed(f"principal {principal_id} is disabled")
        digest = hash_token(settings, secret)
        s.add(
            LoginLinkRow(
                id=link_id,
                principal_id=principal_id,
                token_hash=digest,
                created_at=utcnow(),
                expires_at=expires_at,
            )
        )
        issued = LoginLinkIssued(
            principal_id=principal_id,
            link_id=str(link_id),
            hash_prefix=digest[:HASH_PREFIX_CHARS],
            expires_at=expires_at,
        )
        _record(sessions, s, principal_id, issued, actor)
    return link_id, secret, expires_at


def _start(
    s: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    method: SignInMethod,
    credential_id: uuid.UUID,
) -> StartedSession:
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    session_id = uuid.uuid4()
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.session_ttl_s)
    s.add(
        BrowserSessionRow(
            id=session_id,
            principal_id=principal.id,
            secret_hash=hash_token(settings, secret),
            method=method.value,
            token_id=credential_id if method is SignInMethod.TOKEN else None,
            created_at=now,
            expires_at=expires_at,
        )
    )
    started = BrowserSessionStarted(
        principal_id=principal.id,
        session_id=str(session_id),
        method=method,
        expires_at=expires_at,
        credential_id=str(credential_id),
    )
    _record(sessions, s, principal.id, started, principal.actor())
    return StartedSession(session_id, secret, expires_at, principal)


def sign_in_with_token(
    sessions: sessionmaker[Session], settings: Settings, token: str
) -> StartedSession:
    """Exchange an API token for a browser session (the token must work for the API)."""
    principal = authenticate(sessions, settings, token)
    with transaction(sessions) as s:
        token_id = s.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(settings, token))
        )
        if token_id is None:  # revoked between the two reads
            raise Unauthenticated("unknown API token")
        return _start(s, sessions, settings, principal, SignInMethod.TOKEN, token_id)


def sign_in_with_link(
    sessions: sessionmaker[Session], settings: Settings, link: str
) -> StartedSession:
    """Redeem a one-time login link: it works once, before it expires."""
    if not link.startswith(LINK_PREFIX) or len(link) > 200:
        raise Unauthenticated("malformed sign-in link; ask for a new one")
    with transaction(sessions) as s:
        row = s.scalar(
            select(LoginLinkRow).where(LoginLinkRow.token_hash == hash_token(settings, link))
        )
        if row is None:
            raise Unauthenticated("unknown sign-in link; ask for a new one")
        if row.used_at is not None:
            raise Unauthenticated("this sign-in link was used already; ask for a new one")
        if _aware(row.expires_at) <= utcnow():
            raise Unauthenticated("this sign-in link has expired; ask for a new one")
        # a compare-and-set: of two browsers redeeming the same link at once, one wins
        claimed = s.execute(
            update(LoginLinkRow)
            .where(LoginLinkRow.id == row.id, LoginLinkRow.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if getattr(claimed, "rowcount", 1) != 1:
            raise Unauthenticated("this sign-in link was used already; ask for a new one")
        principal_row = s.get(PrincipalRow, row.principal_id)
        if principal_row is None or principal_row.disabled_at is not None:
            raise Unauthenticated("this principal is disabled")
        principal = principal_from_row(principal_row)
        return _start(s, sessions, settings, principal, SignInMethod.LOGIN_LINK, row.id)


def authenticate_session(
    sessions: sessionmaker[Session], settings: Settings, secret: str
) -> tuple[Principal, uuid.UUID]:
    """The principal of a live session cookie, and the session's id."""
    if not secret.startswith(SESSION_PREFIX) or len(secret) > 200:
        raise Unauthenticated("malformed session cookie; sign in again")

    def lookup() -> tuple[BrowserSessionRow, PrincipalRow, datetime | None] | None:
        with sessions() as s:
            found = s.execute(
                select(BrowserSessionRow, PrincipalRow, ApiToken.revoked_at)
                .join(PrincipalRow, PrincipalRow.id == BrowserSessionRow.principal_id)
                .outerjoin(ApiToken, ApiToken.id == BrowserSessionRow.token_id)
                .where(BrowserSessionRow.secret_hash == hash_token(settings, secret))
            ).first()
            return None if found is None else (found[0], found[1], found[2])

    found = retry_transient(lookup)
    if found is None:
        raise Unauthenticated("unknown session; sign in again")
    row, principal_row, token_revoked_at = found
    if row.ended_at is not None or token_revoked_at is not None:
        raise Unauthenticated("this session was signed out; sign in again")
    if _aware(row.expires_at) <= utcnow():
        raise Unauthenticated("this session has expired; sign in again")
    if principal_row.disabled_at is not None:
        raise Unauthenticated("this principal is disabled")
    return principal_from_row(principal_row), row.id


def end_session(
    sessions: sessionmaker[Session],
    session_id: uuid.UUID,
    *,
    actor: Actor,
    reason: SessionEndReason = SessionEndReason.SIGNED_OUT,
) -> bool:
    """End a session (sign-out); False when it had ended already."""
    with transaction(sessions) as s:
        row = s.get(BrowserSessionRow, session_id)
        if row is None:
            raise NotFound(f"no session {session_id}")
        if row.ended_at is not None:
            return False
        row.ended_at = utcnow()
        ended = BrowserSessionEnded(
            principal_id=row.principal_id, session_id=str(session_id), reason=reason
        )
        _record(sessions, s, row.principal_id, ended, actor)
    return True


def end_sessions_of_token(s: Session, sessions: sessionmaker[Session], token_id: uuid.UUID) -> int:
    """Inside a token's revocation: end the live sessions it started, each with its event."""
    live = s.scalars(
        select(BrowserSessionRow).where(
            BrowserSessionRow.token_id == token_id, BrowserSessionRow.ended_at.is_(None)
        )
    ).all()
    for row in live:
        row.ended_at = utcnow()
        ended = BrowserSessionEnded(
            principal_id=row.principal_id,
            session_id=str(row.id),
            reason=SessionEndReason.TOKEN_REVOKED,
        )
        _record(sessions, s, row.principal_id, ended, SYSTEM_ACTOR)
    return len(live)
