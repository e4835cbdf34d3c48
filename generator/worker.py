"""The generator worker: ``GenerationApproved`` in, a watermarked master MP4 out.

Run as ``clearframe worker generator`` (a consumer-group member on the ``generation`` topic;
add members to scale). Per approved request it re-checks consent and opt-outs, appends
``GenerationStarted``, renders with the configured backend (transient backend failures are
retried with tenacity), embeds the invisible watermark serial in every frame, encodes H.264,
stores the file in the blob store and appends ``GenerationCompleted``. Its events go on its own
stream ``render-<generation_id>``, each at the version of that stream it read.

An image-to-video job renders from its upload's bytes, asked of the ``generation_inputs``
port (the uploading domain keeps them). An extend asks the same port for its source video
as it was signed, renders an image-to-video clip from the source's last frame at the
source's size and rate, and delivers **the source followed by the extension as one clip**
(so it is the requested duration longer than the source). An input that is gone or not the
requester's ends the job as ``invalid_request``.

Failures that a retry cannot fix (invalid request, missing weights, consent revoked) end the
job at once with ``GenerationFailed``. Anything else is retried by the worker runtime; after
``max_attempts`` the job is dead-lettered: ``GenerationFailed`` (``dead_lettered``) on its
stream, ``GenerationDeadLettered`` on the ``generation_dlq`` topic and a ``dead_letters``
row. Either way the consumer moves on: one bad job never blocks its partition.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from contracts.generation import RENDER, GenerationCompleted, GenerationFailed, GenerationStarted
from contracts.ports import (
    BLOB_STORE,
    GENERATION_INPUTS,
    PICKUP_POLICY,
    WATERMARKER,
    GenerationInputs,
)
from core.events import SYSTEM_ACTOR, NewEvent, RecordedEvent, derived_event_id, stream_id, utcnow
from core.media import MediaLimitExceeded, open_image
from core.ports import Resource
from core.projections import Append, Processor
from core.services import Services
from core.video import EncodingError, decode_frames, encode_mp4
from generator.backends.base import ProceduralBackend, RenderedVideo, RenderRequest, VideoBackend
from generator.errors import BackendFailed, BackendUnavailable, InvalidRenderRequest
from generator.events import DEAD_LETTER, GenerationDeadLettered
from generator.jobs import APPROVED, GenerationJob, generation_id_of, is_finished, job_from_stream
from generator.pickup import PickupCheck
from generator.settings import GeneratorSettings

log = logging.getLogger(__name__)

# An input image is scaled down to this longer side before it reaches a backend: the clip is
# at most MAX_SIDE and the backend scales it again, so larger only costs memory.
MAX_INPUT_SIDE = 2048


def decode_input_image(data: bytes) -> NDArray[np.uint8]:
    """An upload's bytes as RGB uint8, within the media limits (InvalidRenderRequest else)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(io.BytesIO(data)) as image:
            image.thumbnail((MAX_INPUT_SIDE, MAX_INPUT_SIDE), Image.Resampling.LANCZOS)
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except MediaLimitExceeded as exc:
        raise InvalidRenderRequest(f"the input image cannot be decoded: {exc.message}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidRenderRequest(f"the input image cannot be decoded: {exc}") from exc
    return np.ascontiguousarray(rgb)


def build_backend(settings: GeneratorSettings) -> VideoBackend:
    if settings.backend == "diffusers":
        from generator.backends.diffusers_backend import DiffusersBackend

        assert settings.weights_dir is not None  # the settings validator guarantees it
        return DiffusersBackend(
            settings.weights_dir,
            image_weights_dir=settings.image_weights_dir,
            device=settings.device,
            dtype=settings.dtype,
            num_inference_steps=settings.inference_steps,
            guidance_scale=settings.guidance_scale,
        )
    return ProceduralBackend()


# one loaded model per process
BACKEND = Resource[VideoBackend](
    "generator.backend",
    lambda services: build_backend(services.settings.section(GeneratorSettings)),
)


def _failed(generation_id: str, version: int, reason: str, error: str, **details: Any) -> Append:
    return Append(
        stream_id(RENDER, generation_id),
        [
            GenerationFailed(
                generation_id=generation_id,
                reason=reason,
                error=error[:4000],
                retryable=False,
                details=details,
            )
        ],
        expected_version=version,
        actor=SYSTEM_ACTOR,
    )


class GeneratorWorker(Processor):
    name = "generator"
    categories = ("generation",)
    max_attempts = 3

    def __init__(
        self,
        services: Services,
        *,
        backend: VideoBackend | None = None,
        pickup: PickupCheck | None = None,
        settings: GeneratorSettings | None = None,
        inputs: GenerationInputs | None = None,
    ) -> None:
        self.services = services
        self.settings = settings or services.settings.section(GeneratorSettings)
        self.backend = backend or services.resource(BACKEND)
        self.pickup = pickup or PickupCheck(services.port(PICKUP_POLICY))
        self.blobs = services.port(BLOB_STORE)
        self.watermarker = services.port(WATERMARKER)
        self.inputs = inputs or services.port(GENERATION_INPUTS)
        self.worker_id = f"{os.uname().nodename}:{os.getpid()}"

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if event.type != APPROVED:
            return ()
        generation_id = generation_id_of(event)
        store = self.services.store
        history = store.read_stream(event.stream_id)
        render = store.read_stream(stream_id(RENDER, generation_id))
        # A job that ended before the render stream existed ended on the generation stream.
        if is_finished([*history, *render]):
            return ()  # a redelivery after the job already ended
        version = len(render)  # a Started of an earlier attempt may be there already
        try:
            job = job_from_stream(history, self.settings)
        except InvalidRenderRequest as exc:
            return [_failed(generation_id, version, "invalid_request", exc.message)]
        verdict = self.pickup.check(job, utcnow())
        if not verdict.allowed:
            return [
                _failed(
                    generation_id,
                    version,
                    verdict.reason or "consent_revoked",
                    f"re-check at pick-up refused the job: {verdict.reason}",
                    **verdict.details,
                )
            ]
        # Appended now rather than with the result, so observers see the job running; the
        # derived id makes a retried attempt append nothing twice.
        started = GenerationStarted(
            generation_id=generation_id,
            backend=self.backend.name,
            model_id=self.backend.model_id,
            worker=self.worker_id,
            pickup_check=verdict.summary(),
        )
        # Started always opens the render stream; on a retry its id is found recorded and the
        # append returns it, whatever the version.
        recorded = store.append(
            stream_id(RENDER, generation_id),
            [NewEvent(started, event_id=derived_event_id(event.event_id, f"{self.name}/started"))],
            expected_version=0,
            actor=SYSTEM_ACTOR,
            causation=event,
        )
        version = recorded[-1].stream_version
        try:
            completed = self._produce(job)
        except InvalidRenderRequest as exc:
            return [_failed(generation_id, version, "invalid_request", exc.message)]
        except BackendUnavailable as exc:
            return [_failed(generation_id, version, "backend_unavailable", exc.message)]
        return [
            Append(
                stream_id(RENDER, generation_id),
                [completed],
                expected_version=version,
                actor=SYSTEM_ACTOR,
            )
        ]

    def _input_image(self, job: GenerationJob) -> NDArray[np.uint8] | None:
        if job.upload_id is None:
            return None
        data = (
            None
            if job.requester_id is None
            else self.inputs.upload_image(job.upload_id, job.requester_id)
        )
        if data is None:
            raise InvalidRenderRequest(
                f"upload {job.upload_id} is not an approved image upload of the requester"
            )
        return decode_input_image(data)

    def _source_video(self, job: GenerationJob) -> tuple[NDArray[np.uint8], int] | None:
        if job.extends is None:
            return None
        data = (
            None
            if job.requester_id is None
            else self.inputs.source_video(job.extends, job.requester_id)
        )
        if data is None:
            raise InvalidRenderRequest(
                f"generation {job.extends} is not a signed video of the requester to extend"
            )
        with tempfile.TemporaryDirectory(prefix="cf-src-") as tmp:
            path = Path(tmp) / "source.mp4"
            path.write_bytes(data)
            try:
                frames, fps = decode_frames(path)
            except EncodingError as exc:
                raise InvalidRenderRequest(f"the source video cannot be decoded: {exc}") from exc
        if fps <= 0:
            raise InvalidRenderRequest("the source video has no frame rate")
        return frames, max(1, int(round(fps)))

    def _render(self, job: GenerationJob) -> RenderedVideo:
        source = self._source_video(job)
        if source is None:
            request = job.render_request(self._input_image(job))
        else:
            request = job.extension_request(source[0][-1], source[1])
        rendered = self._render_with_retries(request)
        if source is None:
            return rendered
        frames = source[0]
        extension = rendered.frames[1:]  # its first frame is the source's last one again
        if extension.shape[1:] != frames.shape[1:]:
            raise InvalidRenderRequest(
                f"the extension is {extension.shape[2]}x{extension.shape[1]}, "
                f"the source {frames.shape[2]}x{frames.shape[1]}"
            )
        return replace(rendered, frames=np.concatenate([frames, extension]))

    def _render_with_retries(self, request: RenderRequest) -> RenderedVideo:
        retrying = Retrying(
            retry=retry_if_exception_type(BackendFailed),
            stop=stop_after_attempt(self.settings.backend_retries),
            wait=wait_exponential(multiplier=self.settings.backend_retry_wait_s, max=30),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self.backend.render(request)
        raise AssertionError("unreachable")  # pragma: no cover

    def _produce(self, job: GenerationJob) -> GenerationCompleted:
        started = time.perf_counter()
        rendered = self._render(job)
        serial = self.watermarker.serial_for(job.generation_id)
        embedded = self.watermarker.embed_verified(rendered.frames, serial)
        frames = embedded.frames
        with tempfile.TemporaryDirectory(prefix="cf-gen-") as tmp:
            path = encode_mp4(frames, rendered.fps, Path(tmp) / "master.mp4", crf=self.settings.crf)
            size = path.stat().st_size
            address = self.blobs.put_file(path)
        t, h, w, _ = frames.shape
        return GenerationCompleted(
            generation_id=job.generation_id,
            master_blob=address,
            bytes=size,
            width=w,
            height=h,
            fps=rendered.fps,
            frames=t,
            duration_s=round(t / rendered.fps, 4),
            seed=job.seed,
            backend=rendered.backend,
            model_id=rendered.model_id,
            watermark_serial=f"{serial:016x}",
            watermark_strength=embedded.strength,
            render_ms=int((time.perf_counter() - started) * 1000),
        )

    def on_dead_letter(self, event: RecordedEvent, error: BaseException) -> Sequence[Append]:
        if event.type != APPROVED:
            return ()
        generation_id = generation_id_of(event)
        message = f"{type(error).__name__}: {error}"[:4000]
        render = stream_id(RENDER, generation_id)
        dead_letter = stream_id(DEAD_LETTER, generation_id)
        versions = self.services.store.stream_version
        return [
            Append(
                render,
                [
                    GenerationFailed(
                        generation_id=generation_id,
                        reason="backend_failed",
                        error=message,
                        retryable=True,
                        dead_lettered=True,
                        details={"attempts": self.max_attempts},
                    )
                ],
                expected_version=versions(render),
                actor=SYSTEM_ACTOR,
            ),
            Append(
                dead_letter,
                [
                    GenerationDeadLettered(
                        generation_id=generation_id,
                        source_event_id=str(event.event_id),
                        source_event_type=event.type,
                        consumer=self.name,
                        error=message,
                    )
                ],
                expected_version=versions(dead_letter),
                actor=SYSTEM_ACTOR,
            ),
        ]
