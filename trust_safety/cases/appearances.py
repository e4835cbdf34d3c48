"""Telling a creator that a cameo owner took their likeness out of the creator's video.

The consent domain records the removal (``CameoAppearanceRemoved``, appended by the cameo's
owner); the assets domain takes the video down. This processor adds the notice to the
creator's inbox, so the person whose video went away learns why from the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from contracts.consent import CONSENT, CameoAppearanceRemoved
from contracts.generation import GenerationRequested, generation_history
from core.events import RecordedEvent, stream_id
from core.projections import Append, Processor
from core.services import Services
from trust_safety.cases.events import INBOX
from trust_safety.cases.inbox import appearance_removed_message, notice


class AppearanceNotices(Processor):
    name = "cases-appearance-notices"
    categories = (CONSENT,)

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if event.type != CameoAppearanceRemoved.event_type_name:
            return ()
        removal: CameoAppearanceRemoved = event.payload_as(CameoAppearanceRemoved)
        history = generation_history(self.services.store, removal.generation_id)
        creators = [
            e.payload_as(GenerationRequested).requester_id
            for e in history
            if e.type == GenerationRequested.event_type_name
        ]
        # a request never stored here (or erased) has nobody to tell; an owner who removed
        # themselves from their own video needs no notice of it
        if not creators or creators[0] == event.actor.id:
            return ()
        creator = creators[0]
        message = appearance_removed_message(creator, removal.generation_id, removal.cameo_id)
        nid = uuid.uuid5(uuid.NAMESPACE_URL, f"clearframe:appearance:{event.event_id}").hex
        return [Append(stream_id(INBOX, creator), [notice(message, nid)], expected_version=None)]
