"""What other domains may ask the consent ledger (the only module they may import).

* ``check_request_consent``: at request time, which cameos and public figures a request
  brings in and whether the requester may use each (read model).
* ``likeness_consent``: the moderation pipeline's ``LikenessConsent`` callable.
* ``cameo_name_consent``: its ``CameoNameConsent`` callable (a name that is a cameo the
  requester may use is not rewritten as a private person's).
* ``recheck_cameos_at_pickup``: the generator's second look, folded from the cameos' own
  event streams so that a revocation appended a moment ago is already seen.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from contracts.ports import FOLLOW_GRAPH, FollowGraph
from core.events import utcnow
from core.services import Services
from trust_safety.consent.check import (
    ConsentCheckResult,
    check_cameo_consent,
    find_cameo_mentions,
    likeness_consent_callable,
    recheck_at_pickup,
)
from trust_safety.consent.errors import CameoNotFound
from trust_safety.consent.ledger import CameoRecord, decide_cameo_use
from trust_safety.consent.service import load_cameo
from trust_safety.consent.store import SqlConsentLedger

__all__ = [
    "ConsentCheckResult",
    "cameo_name_consent",
    "check_request_consent",
    "find_cameo_mentions",
    "likeness_consent",
    "recheck_cameos_at_pickup",
]


def check_request_consent(
    services: Services,
    *,
    principal_id: str,
    prompt: str,
    at: datetime,
    explicit_cameo_ids: Sequence[str] = (),
    public_figure_ids: Iterable[str] = (),
) -> ConsentCheckResult:
    with services.read_sessions() as s:
        return check_cameo_consent(
            SqlConsentLedger(s),
            services.port(FOLLOW_GRAPH),
            principal_id=principal_id,
            prompt=prompt,
            at=at,
            explicit_cameo_ids=explicit_cameo_ids,
            public_figure_ids=public_figure_ids,
        )


def likeness_consent(
    services: Services, clock: Callable[[], datetime] = utcnow
) -> Callable[[str, str], bool]:
    """(requester, public figure) -> may the requester depict the figure now?"""

    def consent(requester_id: str, public_figure_id: str) -> bool:
        with services.read_sessions() as s:
            return likeness_consent_callable(
                SqlConsentLedger(s), services.port(FOLLOW_GRAPH), clock
            )(requester_id, public_figure_id)

    return consent


class _StreamCameos:
    """Cameos folded from their own streams (authoritative, never behind the read model)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def get(self, cameo_id: str) -> CameoRecord | None:
        try:
            return load_cameo(self.services, cameo_id)[0]
        except CameoNotFound:
            return None

    def by_handle(self, handle: str) -> CameoRecord | None:  # pragma: no cover - unused here
        return None

    def cameo_for_public_figure(self, public_figure_id: str) -> CameoRecord | None:  # noqa: ARG002
        return None  # pragma: no cover - unused here


def recheck_cameos_at_pickup(
    services: Services, *, principal_id: str, cameo_ids: Sequence[str], at: datetime
) -> ConsentCheckResult:
    return recheck_at_pickup(
        _StreamCameos(services),
        services.port(FOLLOW_GRAPH),
        principal_id=principal_id,
        cameo_ids=cameo_ids,
        at=at,
    )

def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _cameo_name_consent(
    ledger: SqlConsentLedger, graph: FollowGraph, clock: Callable[[], datetime]
) -> Callable[[str, str], bool]:
    """Adapter for the moderation pipeline's ``CameoNameConsent``: (requester, name) -> bool.

    True when a cameo the requester may use now, among their own and those granted to them,
    carries that display name. Cameos open to everyone are reached by @handle, not by a name
    any stranger could share.
    """

    def consent(requester_id: str, name: str) -> bool:
        wanted = _name_key(name)
        candidates = dict.fromkeys(
            [*ledger.cameo_ids_of(requester_id), *ledger.cameo_ids_granted_to(requester_id)]
        )
        for cameo_id in candidates:
            record = ledger.get(cameo_id)
            if record is None or _name_key(record.display_name) != wanted:
                continue
            if decide_cameo_use(record, requester_id, clock(), graph).allowed:
                return True
        return False

    return consent


def cameo_name_consent(
    services: Services, clock: Callable[[], datetime] = utcnow
) -> Callable[[str, str], bool]:
    """(requester, name) -> may the requester depict the person of this name now? The
    moderation pipeline's ``CameoNameConsent``: a private-looking name is kept, not
    rewritten, when it is the display name of a cameo the requester may use."""

    def consent(requester_id: str, name: str) -> bool:
        with services.read_sessions() as s:
            return _cameo_name_consent(SqlConsentLedger(s), services.port(FOLLOW_GRAPH), clock)(
                requester_id, name
            )

    return consent
