"""The identity stream: one stream per principal (``principal-<id>``) holding what was done to
it: created, roles changed, tokens issued and revoked, age assured, personal data erased.

Token events never carry the token: only its id, its label and the first characters of its
HMAC (enough to match a leaked token to its event, useless for authenticating).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from core.events import EventPayload, PersonalData, event_type, stream_id

IDENTITY = "principal"
# how much of a token's HMAC an event may show (8 hex = 32 bits: identifies, cannot be replayed)
HASH_PREFIX_CHARS = 8


def principal_stream(principal_id: str) -> str:
    return stream_id(IDENTITY, principal_id)


@event_type("PrincipalCreated", category=IDENTITY)
class PrincipalCreated(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="principal_id", fields=("name",)
    )

    principal_id: str
    name: str
    roles: list[str]


@event_type("RoleChanged", category=IDENTITY)
class RoleChanged(EventPayload):
    principal_id: str
    roles: list[str]
    previous_roles: list[str]


@event_type("TokenIssued", category=IDENTITY)
class TokenIssued(EventPayload):
    principal_id: str
    token_id: str
    hash_prefix: str = Field(max_length=HASH_PREFIX_CHARS)
    label: str = ""


@event_type("TokenRevoked", category=IDENTITY)
class TokenRevoked(EventPayload):
    principal_id: str
    token_id: str


@event_type("PersonalDataErased", category=IDENTITY)
class PersonalDataErased(EventPayload):
    """The principal's personal data was erased (keys deleted, read models scrubbed).

    ``request_ref`` points at the request outside the system (a ticket), never at its text.
    """

    principal_id: str
    request_ref: str | None = None
    sealed_events: int = Field(ge=0, description="events whose personal fields were sealed")


class AgeAssuranceSource(StrEnum):
    """Who assured that the account belongs to an adult."""

    PROVIDER = "provider"  # an attestation by a principal with the age_assurance_provider role
    CAMEO_ENROLMENT = "cameo_enrolment"  # the age check of the owner's own cameo enrolment
    OPERATOR = "operator"  # an operator's command (`clearframe principal assure-age`)


@event_type("AgeAssured", category=IDENTITY)
class AgeAssured(EventPayload):
    """The account was assured to belong to an adult; generating and uploading need this.

    Never written by the principal about themself. ``reference`` points at the provider's or
    the operator's record (a ticket, a verification id), never at a document; ``evidence``
    holds what an automatic check measured (the enrolment's age estimates): both are the
    principal's personal data, sealed and erasable.
    """

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="principal_id", fields=("reference", "evidence")
    )

    principal_id: str
    source: AgeAssuranceSource
    reference: str | None = Field(default=None, min_length=1, max_length=200)
    evidence: dict[str, float] | None = None


@event_type("LoginLinkIssued", category=IDENTITY)
class LoginLinkIssued(EventPayload):
    """A one-time sign-in link was issued for the console (`clearframe principal login-link`).

    Like a token's events, never the link itself: its id, when it expires, and the first
    characters of its HMAC."""

    principal_id: str
    link_id: str
    hash_prefix: str = Field(max_length=HASH_PREFIX_CHARS)
    expires_at: datetime


class SignInMethod(StrEnum):
    TOKEN = "token"  # an API token typed into the sign-in page
    LOGIN_LINK = "login_link"  # a one-time link issued by an operator


@event_type("BrowserSessionStarted", category=IDENTITY)
class BrowserSessionStarted(EventPayload):
    """The principal signed in to the console; the session cookie works until ``expires_at``
    or until it is ended."""

    principal_id: str
    session_id: str
    method: SignInMethod
    expires_at: datetime
    # the API token or the login link it was started with (their ids, not their secrets)
    credential_id: str


class SessionEndReason(StrEnum):
    SIGNED_OUT = "signed_out"  # the person signed out
    TOKEN_REVOKED = "token_revoked"  # the API token it was started with was revoked


@event_type("BrowserSessionEnded", category=IDENTITY)
class BrowserSessionEnded(EventPayload):
    principal_id: str
    session_id: str
    reason: SessionEndReason
