"""open_clip embedder with a tiny registered model and random weights (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import open_clip  # noqa: E402
import pytest
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from reverse_search.embedders import FrameEmbedder  # noqa: E402
from reverse_search.embedders.clip import ClipConfig, ClipEmbedder, register_model_config  # noqa: E402
from reverse_search.errors import EmbedderConfigError  # noqa: E402
from tests.reverse_search.helpers import clip  # noqa: E402

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    root = tmp_path_factory.mktemp("clip")
    register_model_config("cf-tiny-clip", TINY, root)
    torch.manual_seed(0)
    model = open_clip.create_model("cf-tiny-clip")
    model.eval()
    path = root / "tiny.safetensors"
    save_file(model.state_dict(), str(path))
    return path, model


@pytest.fixture(scope="module")
def embedder(tiny_checkpoint) -> ClipEmbedder:
    return ClipEmbedder(ClipConfig("cf-tiny-clip", tiny_checkpoint[0]))


def test_loads_the_checkpoint_weights(embedder: ClipEmbedder, tiny_checkpoint) -> None:
    _, reference = tiny_checkpoint
    frames = np.ascontiguousarray(clip(0)[:3])
    ours = embedder.embed(frames)
    pixels = torch.from_numpy(embedder._preprocess(frames))
    with torch.no_grad():
        expected = reference.encode_image(pixels).numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(ours, expected, atol=1e-5)


def test_implements_the_interface(embedder: ClipEmbedder) -> None:
    assert isinstance(embedder, FrameEmbedder)
    frames = np.ascontiguousarray(clip(1)[:4])
    assert embedder.embed(frames).shape == (4, 32)
    views = embedder.embed_query(frames)
    assert views.shape == (4, 2, 32)
    assert np.allclose(np.linalg.norm(views, axis=-1), 1.0, atol=1e-5)
    assert embedder.view_families(2).tolist() == [0, 1]  # the frame, its mirror image
    assert embedder.name.startswith("open-clip-cf-tiny-clip-")


def test_text_tower_gives_comparable_unit_vectors(embedder: ClipEmbedder) -> None:
    a, b = embedder.embed_text("a red kite"), embedder.embed_text("a koi pond at night")
    assert a.shape == (32,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(a, b)
    with pytest.raises(EmbedderConfigError):
        embedder.embed_text("   ")


def test_bad_configuration_raises(tmp_path: Path, tiny_checkpoint) -> None:
    with pytest.raises(EmbedderConfigError):
        ClipEmbedder(ClipConfig("cf-tiny-clip", tmp_path / "missing.safetensors"))
    with pytest.raises(EmbedderConfigError):
        ClipEmbedder(ClipConfig("no-such-model-config", tiny_checkpoint[0]))
    wrong = tmp_path / "wrong.safetensors"
    save_file({"nothing": torch.zeros(2)}, str(wrong))
    with pytest.raises(EmbedderConfigError):
        ClipEmbedder(ClipConfig("cf-tiny-clip", wrong))
