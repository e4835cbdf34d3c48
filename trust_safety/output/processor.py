"""``output-moderation``: moderates each completed generation before anything is signed.

It follows the generator's render stream (and the generation stream, where renders completed
before the streams were split) and writes ``OutputModerated`` on its own stream
``output-<generation_id>``, at the version it read there. Every face it finds is matched
against the enrolled cameos and public figures for this request (``trust_safety.output.
likeness``); each cameo found gets a ``LikenessMatched`` on its match stream, in the same
commit as the decision. A block is an automated decision its requester may contest: its
enforcement action and the requester's notice are committed with it too
(``trust_safety.cases.output_blocks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from contracts.generation import GENERATION, OUTPUT, RENDER, OutputModerated
from contracts.ports import BLOB_STORE
from core.events import SYSTEM_ACTOR, RecordedEvent, stream_id, utcnow
from core.ports import Resource
from core.projections import Append, Processor
from core.services import Services
from core.video import decode_frames
from trust_safety.cases.output_blocks import block_appends
from trust_safety.hash_banks.hooks import screen_output
from trust_safety.output.classifiers import (
    ClipConfig,
    ClipZeroShotClassifier,
    DlibFaceClassifier,
    FrameClassifier,
    NudeNetClassifier,
    with_optouts,
)
from trust_safety.output.likeness import RequestLikeness, match_events, request_of
from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY, OutputPolicy, moderate_frames
from trust_safety.output.settings import OutputModerationSettings

COMPLETED = "GenerationCompleted"


def build_classifiers(settings: OutputModerationSettings) -> list[FrameClassifier]:
    classifiers: list[FrameClassifier] = []
    if settings.nudenet:
        classifiers.append(NudeNetClassifier())
    if settings.faces:
        classifiers.append(DlibFaceClassifier())
    if settings.clip_model and settings.clip_checkpoint:
        classifiers.append(
            ClipZeroShotClassifier(
                ClipConfig(
                    settings.clip_model, settings.clip_checkpoint, device=settings.clip_device
                )
            )
        )
    return classifiers


CLASSIFIERS = Resource[list[FrameClassifier]](
    "output-moderation.classifiers",
    lambda services: build_classifiers(services.settings.section(OutputModerationSettings)),
)


class OutputModeration(Processor):
    name = "output-moderation"
    categories = (RENDER, GENERATION)

    def __init__(
        self,
        services: Services,
        *,
        classifiers: Sequence[FrameClassifier] | None = None,
        policy: OutputPolicy | None = None,
    ) -> None:
        self.services = services
        settings = services.settings.section(OutputModerationSettings)
        # Whatever else is configured, every output is matched against the opt-out registry.
        self.classifiers = with_optouts(
            services,
            list(classifiers) if classifiers is not None else services.resource(CLASSIFIERS),
        )
        self.blobs = services.port(BLOB_STORE)
        self.policy = replace(
            policy or DEFAULT_OUTPUT_POLICY,
            sample_rate_hz=settings.sample_rate_hz,
            adult_age=settings.adult_age,
            minor_age_margin=settings.minor_age_margin,
            min_face_score=settings.min_face_score,
        )

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if event.type != COMPLETED:
            return ()
        store = self.services.store
        generation_id = str(event.payload.get("generation_id") or event.stream_key)
        own = stream_id(OUTPUT, generation_id)
        history = store.read_stream(own)
        # a legacy render was moderated on the generation stream it completed on
        legacy = store.read_stream(event.stream_id) if event.category == GENERATION else []
        if any(e.type == "OutputModerated" for e in [*history, *legacy]):
            return ()
        master = str(event.payload["master_blob"])
        frames, fps = decode_frames(self.blobs.path(master))
        # Known harmful media by hash first: a blocking bank's match blocks whatever else says.
        known = screen_output(self.services, self.blobs.path(master), frames, fps)
        request = request_of(self.services, generation_id, event.occurred_at)
        judge = RequestLikeness(self.services, request)
        result = moderate_frames(frames, fps, self.classifiers, self.policy, judge)
        payload = result.to_payload()
        # a known harmful output leaves no face crops behind (its evidence holds it)
        matches = (
            [] if known.withholds_frames else match_events(result, frames, request, self.blobs)
        )
        moderated = OutputModerated(
            generation_id=generation_id,
            decision="block" if result.blocked else "allow",
            policy_version=result.policy_version,
            blocked_categories=list(result.blocked_categories),
            verdicts=payload["verdicts"],  # type: ignore[arg-type]
            frame_scores=payload["frames"],  # type: ignore[arg-type]
            classifiers=list(result.classifiers),
            master_blob=master,
        )
        moderated = known.apply(moderated)
        # Whoever asked is told and may contest; a request stored without its requester (or
        # erased) leaves nobody to act against.
        block = (
            block_appends(store, generation_id, request.requester_id, moderated, utcnow())
            if moderated.decision == "block" and request.requester_id
            else []
        )
        evidence = known.appends(
            self.services, generation_id, request.requester_id, event.occurred_at, utcnow()
        )
        return [
            Append(own, [moderated], expected_version=len(history), actor=SYSTEM_ACTOR),
            *block,
            *matches,
            *evidence,
        ]
