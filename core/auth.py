"""Principals, roles, API tokens, and the FastAPI dependency every route states its roles with.

Tokens are random (256 bits), shown once, and stored only as an HMAC-SHA256 keyed with the
deployment's secret key, so a leaked database alone does not yield usable tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, transaction
from core.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from core.events import SYSTEM_ACTOR, Actor, EventPayload, utcnow
from core.identity import (
    HASH_PREFIX_CHARS,
    AgeAssuranceSource,
    AgeAssured,
    PrincipalCreated,
    RoleChanged,
    TokenIssued,
    TokenRevoked,
    principal_stream,
)
from core.privacy import personal_column
from core.settings import Settings
from core.transient import retry_transient

TOKEN_PREFIX = "cf_"


class Role(StrEnum):
    user = "user"
    rights_holder = "rights_holder"
    trusted_flagger = "trusted_flagger"
    investigator = "investigator"
    reviewer = "reviewer"
    admin = "admin"
    # A liveness vendor's account: records liveness verdicts on cameos (never its own).
    liveness_provider = "liveness_provider"
    # An age-assurance vendor's account: attests that another account belongs to an adult.
    age_assurance_provider = "age_assurance_provider"


class PrincipalRow(Base):
    __tablename__ = "principals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, info=personal_column("id"))
    roles: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Written with the AgeAssured identity event (core/identity.py), like the roles.
    age_assured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    age_assurance_source: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    principal_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("principals.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AgeAssuranceRequired(Forbidden):
    """Generating and uploading need an account assured to belong to an adult."""

    code = "age_assurance_required"


class SelfAttestation(Forbidden):
    """Nobody assures their own age: an attestation about oneself is refused."""

    code = "age_assurance_self_attestation"


AGE_ASSURANCE_HINT = (
    "enrol your cameo from a selfie video (POST /v1/cameos: its age check assures the "
    "account), or have your age verified by an age-assurance provider, then try again"
)


class Principal:
    """The authenticated caller of a request."""

    def __init__(self, id: str, name: str, roles: set[Role], age_assured: bool = False) -> None:
        self.id, self.name, self.roles = id, name, roles
        self.age_assured = age_assured

    def require_age_assured(self) -> None:
        """Refuse (403 ``age_assurance_required``) an account whose age was never assured."""
        if not self.age_assured:
            raise AgeAssuranceRequired(
                f"this account's age has not been assured; {AGE_ASSURANCE_HINT}"
            )

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    def owns(self, owner_id: str | None) -> bool:
        """Whether this caller may see what ``owner_id`` owns: its owner, and admins."""
        return owner_id == self.id or self.is_admin

    def actor(self, acting_as: Role | None = None) -> Actor:
        role = acting_as or max(self.roles, key=lambda r: list(Role).index(r))
        return Actor(id=self.id, role=role.value)

    def __repr__(self) -> str:
        return f"Principal({self.id!r}, roles={sorted(self.roles)})"


def hash_token(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def _parse_roles(roles: list[str] | set[str] | tuple[str, ...]) -> set[Role]:
    try:
        parsed = {Role(r) for r in roles}
    except ValueError:
        raise ValidationFailed(
            f"unknown role in {sorted(roles)}; roles are {[r.value for r in Role]}"
        ) from None
    if not parsed:
        raise ValidationFailed("a principal needs at least one role")
    return parsed


# The auth tables are written in the same transaction as the identity events rather than
# projected from them: authentication must read its own writes. A token works the moment it is
# shown, and a revoked one must stop working at once, not when a projection catches up.


def _record(
    sessions: sessionmaker[Session],
    s: Session,
    principal_id: str,
    event: EventPayload,
    actor: Actor,
    *,
    new: bool = False,
) -> None:
    """Append ``event`` to the principal's identity stream inside the auth transaction ``s``."""
    from core.store import EventStore

    EventStore(sessions).append(
        principal_stream(principal_id),
        [event],
        expected_version=0 if new else None,
        actor=actor,
        session=s,
    )


def _principal_id(principal_id: str | None) -> str:
    pid = principal_id or f"p_{uuid.uuid4().hex[:16]}"
    if len(pid) > 64:
        raise ValidationFailed("a principal id is at most 64 characters")
    principal_stream(pid)  # letters, digits and '_.:@-' only (it names the identity stream)
    return pid


def create_principal(
    sessions: sessionmaker[Session],
    name: str,
    roles: list[str],
    principal_id: str | None = None,
    *,
    actor: Actor = SYSTEM_ACTOR,
) -> str:
    parsed = _parse_roles(roles)
    if not name.strip() or len(name) > 200:
        raise ValidationFailed("name must be 1-200 characters")
    pid = _principal_id(principal_id)
    with transaction(sessions) as s:
        if s.get(PrincipalRow, pid) is not None:
            raise ValidationFailed(f"principal {pid} already exists")
        sorted_roles = sorted(r.value for r in parsed)
        s.add(PrincipalRow(id=pid, name=name.strip(), roles=sorted_roles, created_at=utcnow()))
        created = PrincipalCreated(principal_id=pid, name=name.strip(), roles=sorted_roles)
        _record(sessions, s, pid, created, actor, new=True)
    return pid


def change_roles(
    sessions: sessionmaker[Session],
    principal_id: str,
    roles: list[str],
    *,
    actor: Actor = SYSTEM_ACTOR,
) -> bool:
    """Give a principal exactly ``roles``; False (and no event) when it has them already."""
    wanted = sorted(r.value for r in _parse_roles(roles))
    with transaction(sessions) as s:
        row = s.get(PrincipalRow, principal_id)
        if row is None:
            raise NotFound(f"no principal {principal_id}")
        previous = sorted(row.roles)
        if previous == wanted:
            return False
        row.roles = wanted
        changed = RoleChanged(principal_id=principal_id, roles=wanted, previous_roles=previous)
        _record(sessions, s, principal_id, changed, actor)
    return True


def assure_age(
    sessions: sessionmaker[Session],
    principal_id: str,
    source: AgeAssuranceSource,
    *,
    actor: Actor = SYSTEM_ACTOR,
    reference: str | None = None,
    evidence: dict[str, float] | None = None,
    session: Session | None = None,
) -> bool:
    """Record that ``principal_id`` is assured to be an adult (``AgeAssured``); False (and no
    event) when it already was. Never on the principal's own word: ``actor`` must be someone
    else (a provider, an operator, the system for an enrolment's own check).

    ``session``: append inside the caller's transaction (an enrolment appends its cameo's
    events and the assurance together)."""
    if actor.id == principal_id:
        raise SelfAttestation(
            "an account cannot assure its own age: the attestation must come from an "
            "age-assurance provider or an operator"
        )
    if reference is not None and not 1 <= len(reference) <= 200:
        raise ValidationFailed("an age-assurance reference is 1-200 characters")

    def record(s: Session) -> bool:
        row = s.get(PrincipalRow, principal_id)
        if row is None:
            raise NotFound(f"no principal {principal_id}")
        if row.age_assured_at is not None:
            return False
        row.age_assured_at = utcnow()
        row.age_assurance_source = source.value
        assured = AgeAssured(
            principal_id=principal_id, source=source, reference=reference, evidence=evidence
        )
        _record(sessions, s, principal_id, assured, actor)
        return True

    if session is not None:
        return record(session)
    with transaction(sessions) as s:
        return record(s)


def issue_token(
    sessions: sessionmaker[Session],
    settings: Settings,
    principal_id: str,
    label: str = "",
    token: str | None = None,
    *,
    actor: Actor = SYSTEM_ACTOR,
) -> tuple[uuid.UUID, str]:
    """Create a token for a principal; returns (token id, the token shown once)."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(sessions) as s:
        if s.get(PrincipalRow, principal_id) is None:
            raise NotFound(f"no principal {principal_id}")
        token_id = uuid.uuid4()
        token_hash = hash_token(settings, token)
        s.add(
            ApiToken(
                id=token_id,
                principal_id=principal_id,
                token_hash=token_hash,
                label=label[:200],
                created_at=utcnow(),
            )
        )
        issued = TokenIssued(
            principal_id=principal_id,
            token_id=str(token_id),
            hash_prefix=token_hash[:HASH_PREFIX_CHARS],
            label=label[:200],
        )
        _record(sessions, s, principal_id, issued, actor)
    return token_id, token


def revoke_token(
    sessions: sessionmaker[Session], token_id: uuid.UUID, *, actor: Actor = SYSTEM_ACTOR
) -> None:
    with transaction(sessions) as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            revoked = TokenRevoked(principal_id=row.principal_id, token_id=str(token_id))
            _record(sessions, s, row.principal_id, revoked, actor)
            from core.browser_sessions import end_sessions_of_token  # it imports this module

            end_sessions_of_token(s, sessions, token_id)


@dataclass(frozen=True)
class TokenListing:
    """A token as an operator sees it: never its secret or its full hash."""

    token_id: uuid.UUID
    label: str
    hash_prefix: str  # as in its TokenIssued event, to match the audit trail
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class PrincipalListing:
    id: str
    name: str
    roles: list[str]
    created_at: datetime
    disabled_at: datetime | None
    tokens: list[TokenListing]


def list_principals(sessions: sessionmaker[Session]) -> list[PrincipalListing]:
    """Every principal with its tokens, oldest first (read from the auth tables, which are
    written with the identity events, so a principal just created is listed)."""
    with sessions() as s:
        rows = s.scalars(select(PrincipalRow).order_by(PrincipalRow.created_at, PrincipalRow.id))
        principals = list(rows)
        tokens: dict[str, list[TokenListing]] = {}
        for tok in s.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)):
            tokens.setdefault(tok.principal_id, []).append(
                TokenListing(
                    token_id=tok.id,
                    label=tok.label,
                    hash_prefix=tok.token_hash[:HASH_PREFIX_CHARS],
                    created_at=tok.created_at,
                    revoked_at=tok.revoked_at,
                )
            )
        return [
            PrincipalListing(
                id=row.id,
                name=row.name,
                roles=sorted(row.roles),
                created_at=row.created_at,
                disabled_at=row.disabled_at,
                tokens=tokens.get(row.id, []),
            )
            for row in principals
        ]


def authenticate(sessions: sessionmaker[Session], settings: Settings, token: str) -> Principal:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthenticated("malformed API token")

    def lookup() -> Any:
        with sessions() as s:
            return s.execute(
                select(ApiToken, PrincipalRow)
                .join(PrincipalRow, PrincipalRow.id == ApiToken.principal_id)
                .where(ApiToken.token_hash == hash_token(settings, token))
            ).first()

    # every request reads its token: a dropped connection is retried, not answered 503
    row = retry_transient(lookup)
    if row is None:
        raise Unauthenticated("unknown API token")
    tok, principal = row
    if tok.revoked_at is not None:
        raise Unauthenticated("this API token was revoked")
    if principal.disabled_at is not None:
        raise Unauthenticated("this principal is disabled")
    return principal_from_row(principal)


def principal_from_row(row: PrincipalRow) -> Principal:
    return Principal(
        row.id, row.name, _parse_roles(row.roles), age_assured=row.age_assured_at is not None
    )


def ensure_dev_admin(sessions: sessionmaker[Session], settings: Settings) -> str | None:
    """In development, make sure the well-known dev admin token works; returns it."""
    if not settings.is_development or not settings.dev_admin_token:
        return None
    with sessions() as s:
        exists = s.get(PrincipalRow, "dev-admin") is not None
        known = s.scalar(
            select(ApiToken.id).where(
                ApiToken.token_hash == hash_token(settings, settings.dev_admin_token)
            )
        )
    if not exists:
        create_principal(sessions, "Development admin", [Role.admin.value], "dev-admin")
    if known is None:
        issue_token(sessions, settings, "dev-admin", "development admin", settings.dev_admin_token)
    return settings.dev_admin_token


# The FastAPI side of authentication (route dependencies, the Annotated aliases) lives in
# core/access.py, so that the CLI's principal and token commands never import FastAPI. The
# names stay importable from here for the routers.
_ACCESS_NAMES = frozenset(
    {
        "require_roles",
        "public_route",
        "route_roles",
        "AnyUser",
        "Admin",
        "Reviewer",
        "Investigator",
        "RightsHolder",
    }
)


def __getattr__(name: str) -> Any:
    if name in _ACCESS_NAMES:
        import core.access

        return getattr(core.access, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
