"""The owner's removal of a video their face was found in: the consent ledger's own hold.

A video that names the cameo is removed through the consent service, exactly as
``POST /v1/cameos/{id}/appearances/{generation_id}/remove`` does. One that shows the face
without naming it has no appearance in the ledger; its removal is the same fact,
``CameoAppearanceRemoved`` on the cameo's stream, decided on the match: the assets domain
places the hold ``cameo:<cameo_id>`` on the generation either way, and the ledger logs it.
"""

from __future__ import annotations

from core.auth import Principal, Role
from core.services import Services
from trust_safety.consent.errors import CameoNotFound
from trust_safety.consent.ledger import CameoRecord
from trust_safety.consent.models import CameoAppearanceRow
from trust_safety.consent.service import CAMEOS, ConsentService
from trust_safety.likeness.matches import LikenessMatchConflict, LikenessMatchNotFound
from trust_safety.likeness.owner_view import generation_row, match_row

DEFAULT_REASON = "removed by the cameo owner (their face was found in the video)"


def remove_matched_video(
    services: Services,
    principal: Principal,
    cameo_id: str,
    generation_id: str,
    reason: str | None,
) -> int:
    """Append the removal; the cameo stream's new version."""
    from contracts.consent import CameoAppearanceRemoved

    actor = principal.actor(Role.user)
    with services.read_sessions() as s:
        match = match_row(s, cameo_id, generation_id)
        gen = generation_row(s, generation_id)
        named = s.get(CameoAppearanceRow, (cameo_id, generation_id)) is not None
    if match is None and not named:
        raise LikenessMatchNotFound(f"cameo {cameo_id} was not found in {generation_id}")
    if match is not None and match.output_blocked:
        raise LikenessMatchConflict(
            "output moderation blocked this video: it was never published and never will be"
        )
    if (match is not None and match.removed_by_owner_at is not None) or (
        gen is not None and cameo_id in gen.cameo_holds
    ):
        raise LikenessMatchConflict(f"you removed {generation_id} already")
    if named:
        return ConsentService(services).remove_appearance(actor, cameo_id, generation_id, reason)

    def remove(record: CameoRecord) -> CameoAppearanceRemoved:
        if record.owner_id != principal.id:
            raise CameoNotFound(f"no cameo {cameo_id!r}")
        return CameoAppearanceRemoved(
            cameo_id=cameo_id, generation_id=generation_id, reason=reason or DEFAULT_REASON
        )

    return CAMEOS.change(services.store, cameo_id, remove, actor)
