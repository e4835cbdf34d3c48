"""Video pipelines from ``diffusers``, loaded from local weights directories.

The operator points ``CLEARFRAME_GENERATOR_WEIGHTS_DIR`` at a directory saved with
``pipeline.save_pretrained`` (it holds ``model_index.json``), and, for image-to-video and
extend requests, ``CLEARFRAME_GENERATOR_IMAGE_WEIGHTS_DIR`` at one of an image-to-video
pipeline (:data:`IMAGE_TO_VIDEO_PIPELINES`). ``WEIGHTS_DIR`` may itself hold an
image-to-video pipeline; then text-to-video requests are refused. A request the configured
pipelines cannot condition on (an image with no image-to-video pipeline, text alone with
only an image-to-video one) fails as an invalid request rather than silently dropping an
input. Nothing is ever downloaded: loading uses ``local_files_only=True``. Production runs
on CUDA; CPU is accepted only when explicitly allowed (tests build tiny random pipelines and
load them through this same code).

An image-to-video pipeline gets the request's image fitted to the frame
(:func:`generator.backends.procedural.fit_image`), the frame its first output frame
reproduces; an extend passes the source's last frame (generator/worker.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from generator.backends.base import RenderedVideo, RenderRequest
from generator.backends.procedural import fit_image
from generator.errors import BackendFailed, BackendUnavailable, InvalidRenderRequest

# Pipelines whose __call__ takes (prompt, num_frames, height, width, num_inference_steps,
# guidance_scale, generator, output_type) and returns ``.frames`` as a batch of videos.
TEXT_TO_VIDEO_PIPELINES = frozenset(
    {
        "TextToVideoSDPipeline",
        "TextToVideoZeroPipeline",
        "CogVideoXPipeline",
        "LTXPipeline",
        "MochiPipeline",
        "HunyuanVideoPipeline",
        "WanPipeline",
        "AnimateDiffPipeline",
        "LattePipeline",
        "AllegroPipeline",
    }
)
# The same call, plus ``image`` (the first frame to animate).
IMAGE_TO_VIDEO_PIPELINES = frozenset(
    {
        "I2VGenXLPipeline",
        "CogVideoXImageToVideoPipeline",
        "LTXImageToVideoPipeline",
        "WanImageToVideoPipeline",
        "HunyuanVideoImageToVideoPipeline",
    }
)
SUPPORTED_PIPELINES = TEXT_TO_VIDEO_PIPELINES | IMAGE_TO_VIDEO_PIPELINES
# Arguments a pipeline needs beyond the common ones. I2VGenXL conditions on the frame rate,
# and its default clip_skip reads ``text_encoder.text_model``, which transformers 5 removed.
_EXTRA_ARGUMENTS: dict[str, Callable[[RenderRequest], dict[str, Any]]] = {
    "I2VGenXLPipeline": lambda request: {"target_fps": request.fps, "clip_skip": None},
}
_DTYPES = {"float16", "bfloat16", "float32"}


def read_pipeline_class(weights_dir: Path, supported: frozenset[str] = SUPPORTED_PIPELINES) -> str:
    """The pipeline class a weights directory declares; raise if it is not one we run."""
    index = weights_dir / "model_index.json"
    if not weights_dir.is_dir():
        raise BackendUnavailable(f"weights directory {weights_dir} does not exist")
    if not index.is_file():
        raise BackendUnavailable(
            f"{weights_dir} has no model_index.json (save it with save_pretrained)"
        )
    try:
        declared = json.loads(index.read_text())
        class_name = str(declared["_class_name"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackendUnavailable(f"{index} is not a diffusers model index: {exc}") from exc
    if class_name not in supported:
        kind = (
            "image-to-video"
            if supported == IMAGE_TO_VIDEO_PIPELINES
            else "text-to-video or image-to-video"
        )
        raise BackendUnavailable(
            f"{class_name} is not a supported {kind} pipeline "
            f"(supported: {', '.join(sorted(supported))})"
        )
    return class_name


class _Pipeline:
    """One weights directory, loaded on first use."""

    def __init__(self, weights_dir: Path, supported: frozenset[str]) -> None:
        self.weights_dir = Path(weights_dir)
        self.class_name = read_pipeline_class(self.weights_dir, supported)
        self.takes_image = self.class_name in IMAGE_TO_VIDEO_PIPELINES
        self.model_id = f"{self.class_name}:{self.weights_dir.name}"
        self.pipe: Any = None


class DiffusersBackend:
    """Runs diffusers video pipelines. Thread-safe: one render at a time per GPU."""

    name = "diffusers"

    def __init__(
        self,
        weights_dir: Path,
        *,
        image_weights_dir: Path | None = None,
        device: str = "cuda",
        dtype: str = "float16",
        num_inference_steps: int = 30,
        guidance_scale: float = 7.5,
        allow_cpu: bool = False,
        size_multiple: int = 8,
    ) -> None:
        self.weights_dir = Path(weights_dir)
        self._main = _Pipeline(self.weights_dir, SUPPORTED_PIPELINES)
        self._image = (
            _Pipeline(Path(image_weights_dir), IMAGE_TO_VIDEO_PIPELINES)
            if image_weights_dir is not None
            else None
        )
        self.pipeline_class = self._main.class_name
        if dtype not in _DTYPES:
            raise BackendUnavailable(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        if device.startswith("cpu") and not allow_cpu:
            raise BackendUnavailable(
                "the diffusers backend runs on CUDA; CPU must be allowed explicitly"
            )
        if not 1 <= num_inference_steps <= 500:
            raise BackendUnavailable(
                f"num_inference_steps must be in [1, 500], got {num_inference_steps}"
            )
        self.device = device
        self.dtype = dtype
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = guidance_scale
        self.size_multiple = size_multiple
        self.model_id = self._main.model_id
        self._lock = threading.Lock()

    def _load(self, pipeline: _Pipeline) -> Any:
        if pipeline.pipe is not None:
            return pipeline.pipe
        try:
            import diffusers
            import torch
        except ImportError as exc:
            raise BackendUnavailable(
                "the diffusers backend needs the 'gpu' extra: pip install 'clearframe[gpu]'"
            ) from exc
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailable("CUDA is not available on this machine")
        dtype = getattr(torch, self.dtype)
        if self.device.startswith("cpu") and dtype is torch.float16:
            dtype = torch.float32  # half precision kernels are missing on CPU
        cls = getattr(diffusers, pipeline.class_name, None) or diffusers.DiffusionPipeline
        try:
            pipe = cls.from_pretrained(
                str(pipeline.weights_dir), torch_dtype=dtype, local_files_only=True
            )
        except (OSError, ValueError, TypeError) as exc:
            raise BackendUnavailable(
                f"cannot load {pipeline.class_name} from {pipeline.weights_dir}: {exc}"
            ) from exc
        pipe = pipe.to(self.device)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        pipeline.pipe = pipe
        return pipe

    def load(self) -> None:
        """Load the pipelines onto the device (done lazily by the first render of each)."""
        with self._lock:
            for pipeline in (self._main, self._image):
                if pipeline is not None:
                    self._load(pipeline)

    def _pipeline_for(self, request: RenderRequest) -> _Pipeline:
        if request.image is not None:
            chosen = self._image or (self._main if self._main.takes_image else None)
            if chosen is None:
                # Rendering the prompt without the image would silently drop what the
                # requester asked for.
                raise InvalidRenderRequest(
                    f"{self._main.class_name} renders from text only; an image-to-video or "
                    "extend request needs an image-conditioned pipeline "
                    "(CLEARFRAME_GENERATOR_IMAGE_WEIGHTS_DIR)"
                )
        else:
            if self._main.takes_image:
                raise InvalidRenderRequest(
                    f"{self._main.class_name} animates an image; a text-to-video request "
                    "needs a text-to-video pipeline in CLEARFRAME_GENERATOR_WEIGHTS_DIR"
                )
            chosen = self._main
        m = self.size_multiple
        if request.width % m or request.height % m:
            raise InvalidRenderRequest(
                f"{chosen.class_name} needs width and height divisible by {m}, "
                f"got {request.width}x{request.height}"
            )
        return chosen

    def render(self, request: RenderRequest) -> RenderedVideo:
        pipeline = self._pipeline_for(request)
        with self._lock:
            pipe = self._load(pipeline)
            import torch

            generator = torch.Generator(device=self.device).manual_seed(request.seed)
            # Some pipelines also draw from the global generator (I2VGenXL samples its image
            # latents without ``generator``): seed it too, so a retry renders the same clip.
            torch.manual_seed(request.seed)
            kwargs: dict[str, Any] = {
                "prompt": request.prompt,
                "num_frames": request.num_frames,
                "height": request.height,
                "width": request.width,
                "num_inference_steps": self.num_inference_steps,
                "guidance_scale": self.guidance_scale,
                "generator": generator,
                "output_type": "np",
            }
            if request.image is not None:
                from PIL import Image

                kwargs["image"] = Image.fromarray(
                    fit_image(request.image, request.width, request.height)
                )
            kwargs.update(_EXTRA_ARGUMENTS.get(pipeline.class_name, lambda r: {})(request))
            if request.negative_prompt:
                kwargs["negative_prompt"] = request.negative_prompt
            try:
                with torch.inference_mode():
                    result = pipe(**kwargs)
            except torch.cuda.OutOfMemoryError as exc:
                torch.cuda.empty_cache()
                raise BackendFailed(
                    f"out of GPU memory rendering {request.num_frames} frames: {exc}"
                ) from exc
            except RuntimeError as exc:
                raise BackendFailed(f"{pipeline.class_name} failed: {exc}") from exc
        frames = to_uint8_video(result.frames)
        return RenderedVideo(
            frames=frames, fps=request.fps, backend=self.name, model_id=pipeline.model_id
        )


def to_uint8_video(frames: Any) -> np.ndarray:
    """Normalise a pipeline's ``.frames`` (batch of videos, float [0,1] or uint8 or PIL) to
    one uint8 RGB array (T, H, W, 3)."""
    video = (
        frames[0] if isinstance(frames, list | tuple) or getattr(frames, "ndim", 0) == 5 else frames
    )
    if isinstance(video, list | tuple):
        video = np.stack([np.asarray(f) for f in video])
    arr = np.asarray(video)
    if arr.ndim != 4 or arr.shape[-1] not in (3, 4):
        raise BackendFailed(f"pipeline returned frames shaped {arr.shape}, expected (T, H, W, 3)")
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)
