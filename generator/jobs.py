"""A generation job as the worker sees it, folded from the gate's generation stream.

The request and approval events belong to the generation gate (trust_safety); the generator
reads them by type name and payload field, never through the gate's code. Field names read
(first present wins, ``params`` / ``parameters`` / ``options`` sub-objects included):

* requester: ``requester_id``, ``account_id``, ``user_id`` (else the request's actor id)
* ``prompt``, ``negative_prompt``, ``seed``, ``width``, ``height``, ``duration_s``, ``fps``
* tier: ``tier`` / ``plan`` (``free`` unless ``paid``/``pro``/``plus``)
* cameos: ``cameo_ids`` (approval's list wins over the request's)
* remix parents: ``remix_of`` / ``remix_parents`` / ``parent_generation_ids`` (ids)
* ``kind`` and, for image-to-video, ``upload_id``; for an extend, ``extends`` (the source
  generation). Their bytes come through the ``generation_inputs`` port, never from the
  uploading or signing domain's code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.events import RecordedEvent
from generator.backends.base import RenderRequest
from generator.errors import InvalidRenderRequest
from generator.settings import GeneratorSettings

REQUESTED = "GenerationRequested"
APPROVED = "GenerationApproved"
TERMINAL = frozenset({"GenerationCompleted", "GenerationFailed"})
_PAID = frozenset({"paid", "pro", "plus", "premium"})


@dataclass(frozen=True)
class GenerationJob:
    generation_id: str
    requester_id: str | None
    prompt: str
    negative_prompt: str | None
    seed: int
    width: int
    height: int
    duration_s: float
    fps: int
    tier: str
    cameo_ids: tuple[str, ...]
    remix_of: tuple[str, ...]
    kind: str = "text_to_video"
    upload_id: str | None = None
    extends: str | None = None

    def render_request(self, image: NDArray[np.uint8] | None = None) -> RenderRequest:
        return RenderRequest(
            prompt=self.prompt,
            seed=self.seed,
            width=self.width,
            height=self.height,
            duration_s=self.duration_s,
            fps=self.fps,
            negative_prompt=self.negative_prompt,
            image=image,
        )

    def extension_request(self, last_frame: NDArray[np.uint8], fps: int) -> RenderRequest:
        """What an extend renders: an image-to-video clip from the source's last frame, at the
        source's size and rate (the result is one clip), one frame longer than the requested
        duration because its first frame is that last frame again and is dropped."""
        height, width = last_frame.shape[:2]
        frames = max(1, int(round(self.duration_s * fps))) + 1
        return RenderRequest(
            prompt=self.prompt,
            seed=self.seed,
            width=width,
            height=height,
            duration_s=frames / fps,
            fps=fps,
            negative_prompt=self.negative_prompt,
            image=last_frame,
        )


def _flatten(payload: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    for nested in ("params", "parameters", "options"):
        inner = payload.get(nested)
        if isinstance(inner, Mapping):
            for key, value in inner.items():
                out.setdefault(key, value)
    return out


def _first(fields: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = fields.get(key)
        if value not in (None, ""):
            return value
    return None


def _ids(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(dict.fromkeys(str(v) for v in value if v not in (None, "")))
    raise InvalidRenderRequest(f"expected a list of ids, got {type(value).__name__}")


def generation_id_of(event: RecordedEvent) -> str:
    value = event.payload.get("generation_id")
    if value:
        return str(value)
    return event.stream_id.split("-", 1)[1]


def is_finished(history: Sequence[RecordedEvent]) -> bool:
    return any(e.type in TERMINAL for e in history)


def job_from_stream(history: Sequence[RecordedEvent], settings: GeneratorSettings) -> GenerationJob:
    requested = [e for e in history if e.type == REQUESTED]
    approved = [e for e in history if e.type == APPROVED]
    if not approved:
        raise InvalidRenderRequest("the generation stream has no GenerationApproved event")
    fields: dict[str, Any] = {}
    for e in requested:
        fields.update(_flatten(e.payload))
    approval = _flatten(approved[-1].payload)
    fields.update({k: v for k, v in approval.items() if v not in (None, "")})
    generation_id = generation_id_of(approved[-1])
    prompt = _first(fields, ("prompt", "normalised_prompt", "text"))
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRenderRequest(f"generation {generation_id} has no prompt in its stream")
    requester = _first(fields, ("requester_id", "account_id", "user_id"))
    if requester is None and requested:
        requester = requested[0].actor.id
    seed = _first(fields, ("seed",))
    if seed is None:
        # No seed requested: derive one, so a retry renders the same video.
        seed = int.from_bytes(hashlib.sha256(generation_id.encode()).digest()[:7], "big")
    width = int(_first(fields, ("width",)) or settings.default_width)
    height = int(_first(fields, ("height",)) or settings.default_height)
    duration = float(_first(fields, ("duration_s", "duration")) or settings.default_duration_s)
    fps = int(_first(fields, ("fps",)) or settings.default_fps)
    if duration > settings.max_duration_s:
        raise InvalidRenderRequest(
            f"duration {duration}s exceeds the limit of {settings.max_duration_s}s"
        )
    if width * height > settings.max_pixels:
        raise InvalidRenderRequest(
            f"{width}x{height} exceeds the limit of {settings.max_pixels} pixels"
        )
    tier_value = str(_first(fields, ("tier", "plan")) or "free").lower()
    cameo_source = approval if approval.get("cameo_ids") is not None else fields
    upload_id = _first(fields, ("upload_id",))
    if upload_id is not None and requester is None:
        raise InvalidRenderRequest(f"generation {generation_id} names an upload but no requester")
    kind = str(_first(fields, ("kind",)) or "text_to_video")
    extends = _first(fields, ("extends",))
    if kind == "extend" and (extends is None or requester is None):
        raise InvalidRenderRequest(
            f"generation {generation_id} is an extend without a source or a requester"
        )
    job = GenerationJob(
        generation_id=generation_id,
        requester_id=None if requester is None else str(requester),
        prompt=prompt,
        negative_prompt=_first(fields, ("negative_prompt",)),
        seed=int(seed),
        width=width,
        height=height,
        duration_s=duration,
        fps=fps,
        tier="paid" if tier_value in _PAID else "free",
        cameo_ids=_ids(cameo_source.get("cameo_ids")),
        remix_of=_ids(_first(fields, ("remix_of", "remix_parents", "parent_generation_ids"))),
        kind=kind,
        upload_id=None if upload_id is None else str(upload_id),
        extends=None if kind != "extend" or extends is None else str(extends),
    )
    job.render_request()  # validate sizes and duration now, with a typed error
    return job
