"""Text-to-video pipelines from ``diffusers``, loaded from a local weights directory.

The operator points ``CLEARFRAME_GENERATOR_WEIGHTS_DIR`` at a directory saved with
``pipeline.save_pretrained`` (it holds ``model_index.json``). Nothing is ever downloaded:
loading uses ``local_files_only=True``. Production runs on CUDA; CPU is accepted only when
explicitly allowed (tests build a tiny random pipeline and load it through this same code).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from generator.backends.base import RenderedVideo, RenderRequest
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
_DTYPES = {"float16", "bfloat16", "float32"}


def read_pipeline_class(weights_dir: Path) -> str:
    """The pipeline class a weights directory declares; raise if it is not text-to-video."""
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
    if class_name not in TEXT_TO_VIDEO_PIPELINES:
        raise BackendUnavailable(
            f"{class_name} is not a supported text-to-video pipeline "
            f"(supported: {', '.join(sorted(TEXT_TO_VIDEO_PIPELINES))})"
        )
    return class_name


class DiffusersBackend:
    """Runs a diffusers text-to-video pipeline. Thread-safe: one render at a time per GPU."""

    name = "diffusers"

    def __init__(
        self,
        weights_dir: Path,
        *,
        device: str = "cuda",
        dtype: str = "float16",
        num_inference_steps: int = 30,
        guidance_scale: float = 7.5,
        allow_cpu: bool = False,
        size_multiple: int = 8,
    ) -> None:
        self.weights_dir = Path(weights_dir)
        self.pipeline_class = read_pipeline_class(self.weights_dir)
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
        self.model_id = f"{self.pipeline_class}:{self.weights_dir.name}"
        self._pipe: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the pipeline onto the device (done lazily by the first render)."""
        if self._pipe is not None:
            return
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
        cls = getattr(diffusers, self.pipeline_class, None) or diffusers.DiffusionPipeline
        try:
            pipe = cls.from_pretrained(
                str(self.weights_dir), torch_dtype=dtype, local_files_only=True
            )
        except (OSError, ValueError, TypeError) as exc:
            raise BackendUnavailable(
                f"cannot load {self.pipeline_class} from {self.weights_dir}: {exc}"
            ) from exc
        pipe = pipe.to(self.device)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        self._pipe = pipe

    def _check(self, request: RenderRequest) -> None:
        if request.image is not None:
            # These pipelines condition on text alone; rendering the prompt without the image
            # would silently drop what the requester asked for.
            raise InvalidRenderRequest(
                f"{self.pipeline_class} renders from text only; an image-to-video request "
                "needs an image-conditioned pipeline"
            )
        m = self.size_multiple
        if request.width % m or request.height % m:
            raise InvalidRenderRequest(
                f"{self.pipeline_class} needs width and height divisible by {m}, "
                f"got {request.width}x{request.height}"
            )

    def render(self, request: RenderRequest) -> RenderedVideo:
        self._check(request)
        with self._lock:
            self.load()
            import torch

            generator = torch.Generator(device=self.device).manual_seed(request.seed)
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
            if request.negative_prompt:
                kwargs["negative_prompt"] = request.negative_prompt
            try:
                with torch.inference_mode():
                    result = self._pipe(**kwargs)
            except torch.cuda.OutOfMemoryError as exc:
                torch.cuda.empty_cache()
                raise BackendFailed(
                    f"out of GPU memory rendering {request.num_frames} frames: {exc}"
                ) from exc
            except RuntimeError as exc:
                raise BackendFailed(f"{self.pipeline_class} failed: {exc}") from exc
        frames = to_uint8_video(result.frames)
        return RenderedVideo(
            frames=frames, fps=request.fps, backend=self.name, model_id=self.model_id
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
