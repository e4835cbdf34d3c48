"""open_clip image encoder (and text tower) loaded from an operator-configured checkpoint.

Nothing is downloaded: ``checkpoint`` must be a local file (``.safetensors`` or a torch
state dict) matching ``model_name``, a config known to open_clip or registered with
``register_model_config``. torch and open_clip are imported lazily so the weight-free
default never pays for them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reverse_search.embedders.base import check_frames, l2_normalize
from reverse_search.errors import EmbedderConfigError


@dataclass(frozen=True)
class ClipConfig:
    model_name: str
    checkpoint: Path
    device: str = "cpu"
    batch_size: int = 32
    query_flip: bool = True


def register_model_config(name: str, config: dict[str, Any], directory: Path) -> None:
    """Make a custom model config (for example a tiny test model) known to open_clip."""
    import open_clip

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    open_clip.add_model_config(path)


def _checkpoint_digest(path: Path) -> str:
    # The first MiB and the size identify a checkpoint well enough to refuse mixing vectors
    # of different weights, without hashing gigabytes at start-up.
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


class ClipEmbedder:
    def __init__(self, config: ClipConfig) -> None:
        checkpoint = Path(config.checkpoint)
        if not checkpoint.is_file():
            raise EmbedderConfigError(f"CLIP checkpoint {checkpoint} does not exist")
        try:
            import open_clip
            import torch
        except ImportError as exc:  # pragma: no cover - both are project dependencies
            raise EmbedderConfigError(f"open_clip is not importable: {exc}") from exc
        if open_clip.get_model_config(config.model_name) is None:
            raise EmbedderConfigError(f"open_clip knows no model config {config.model_name!r}")
        try:
            model, _, _ = open_clip.create_model_and_transforms(
                config.model_name, pretrained=str(checkpoint), device=config.device
            )
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            raise EmbedderConfigError(
                f"cannot load {checkpoint} into {config.model_name!r}: {exc}"
            ) from exc
        model.eval()
        self._torch = torch
        self._model = model
        self._tokenizer = open_clip.get_tokenizer(config.model_name)
        self.config = config
        size = model.visual.image_size
        self._image_size = (size, size) if isinstance(size, int) else tuple(size)
        mean = getattr(model.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
        std = getattr(model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
        self._mean = np.asarray(mean, np.float32)
        self._std = np.asarray(std, np.float32)
        with torch.no_grad():
            probe = torch.zeros(1, 3, *self._image_size, device=config.device)
            self._dim = int(model.encode_image(probe).shape[-1])
        self._name = f"open-clip-{config.model_name}-{_checkpoint_digest(checkpoint)}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _preprocess(self, frames: np.ndarray) -> np.ndarray:
        # Centre square crop then resize: the same geometry open_clip's eval transform uses.
        h, w = frames.shape[1:3]
        side = min(h, w)
        y0, x0 = (h - side) // 2, (w - side) // 2
        height, width = self._image_size
        batch = (
            np.stack(
                [
                    cv2.resize(
                        f[y0 : y0 + side, x0 : x0 + side],
                        (width, height),
                        interpolation=cv2.INTER_AREA,
                    )
                    for f in frames
                ]
            ).astype(np.float32)
            / 255.0
        )
        batch = (batch - self._mean) / self._std
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))

    def _encode(self, frames: np.ndarray) -> np.ndarray:
        torch = self._torch
        out = []
        with torch.no_grad():
            for start in range(0, len(frames), self.config.batch_size):
                pixels = torch.from_numpy(
                    self._preprocess(frames[start : start + self.config.batch_size])
                )
                out.append(
                    self._model.encode_image(pixels.to(self.config.device)).float().cpu().numpy()
                )
        return l2_normalize(np.concatenate(out))

    def embed(self, frames: np.ndarray) -> np.ndarray:
        return self._encode(check_frames(frames))

    def embed_reference(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # One row per frame: the 9:16 windows were measured with the descriptor only (the
        # benchmark runs without weights), and every extra row costs index space.
        rows = self.embed(frames)
        return rows, np.arange(len(rows), dtype=np.int64)

    def embed_query(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        views = [self._encode(frames)]
        if self.config.query_flip:
            views.append(self._encode(np.ascontiguousarray(frames[:, :, ::-1])))
        return np.stack(views, axis=1)

    def view_families(self, view_count: int) -> np.ndarray:
        return np.arange(view_count, dtype=np.int64)  # the frame, then its mirror image

    def embed_text(self, text: str) -> np.ndarray:
        """The text tower's vector for ``text``, comparable with image vectors."""
        if not text or not text.strip():
            raise EmbedderConfigError("a text query must not be empty")
        torch = self._torch
        with torch.no_grad():
            tokens = self._tokenizer([text]).to(self.config.device)
            vector = self._model.encode_text(tokens).float().cpu().numpy()
        return l2_normalize(vector)[0]
