from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from generator.backends.base import ProceduralBackend, RenderRequest, VideoBackend
from generator.backends.diffusers_backend import (
    DiffusersBackend,
    read_pipeline_class,
    to_uint8_video,
)
from generator.errors import BackendUnavailable, InvalidRenderRequest


def test_procedural_backend_honours_the_request() -> None:
    backend = ProceduralBackend()
    assert isinstance(backend, VideoBackend)
    out = backend.render(RenderRequest("a kite", 3, 96, 64, 1.0, fps=8))
    assert out.frames.shape == (8, 64, 96, 3)
    assert out.backend == "procedural"


@pytest.mark.parametrize(
    "kwargs",
    [{"prompt": "  "}, {"width": 97}, {"seed": -1}, {"duration_s": 0.0}, {"fps": 500}],
)
def test_render_request_validation(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "prompt": "x",
        "seed": 1,
        "width": 64,
        "height": 64,
        "duration_s": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(InvalidRenderRequest):
        RenderRequest(**args)  # type: ignore[arg-type]


def test_weights_dir_validation(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="does not exist"):
        read_pipeline_class(tmp_path / "nope")
    with pytest.raises(BackendUnavailable, match="model_index"):
        read_pipeline_class(tmp_path)
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline"})
    )
    with pytest.raises(BackendUnavailable, match="not a supported text-to-video"):
        read_pipeline_class(tmp_path)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "TextToVideoSDPipeline"}))
    with pytest.raises(BackendUnavailable, match="CPU must be allowed"):
        DiffusersBackend(tmp_path, device="cpu")


def test_to_uint8_video_normalises_pipeline_outputs() -> None:
    batch = np.full((1, 2, 4, 4, 3), 0.5, dtype=np.float32)
    assert to_uint8_video(batch).dtype == np.uint8
    assert to_uint8_video(batch)[0, 0, 0, 0] == 128
    assert to_uint8_video([np.zeros((2, 4, 4, 3), np.uint8)]).shape == (2, 4, 4, 3)


def _tiny_text_to_video_pipeline(directory: Path) -> None:
    """A TextToVideoSDPipeline with random weights and a hand-written tokenizer vocabulary,
    saved the way an operator's weights directory is laid out."""
    diffusers = importlib.import_module("diffusers")
    torch = importlib.import_module("torch")
    transformers = importlib.import_module("transformers")
    torch.manual_seed(0)
    unet = diffusers.UNet3DConditionModel(
        sample_size=8,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=32,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=[32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=32,
    )
    words = ["a", "red", "kite", "blue", "sea", "over", "the"]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for w in words:
        vocab[w + "</w>"] = len(vocab)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    tok_dir = directory / "_tok"
    tok_dir.mkdir(parents=True)
    (tok_dir / "vocab.json").write_text(json.dumps(vocab))
    (tok_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(
        str(tok_dir / "vocab.json"), str(tok_dir / "merges.txt"), model_max_length=16
    )
    text_encoder = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    pipe = diffusers.TextToVideoSDPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=diffusers.DDIMScheduler(beta_schedule="scaled_linear", clip_sample=False),
    )
    pipe.save_pretrained(str(directory))


@pytest.mark.slow
def test_diffusers_backend_loads_and_renders_a_local_pipeline(tmp_path: Path) -> None:
    weights = tmp_path / "weights"
    _tiny_text_to_video_pipeline(weights)
    backend = DiffusersBackend(
        weights, device="cpu", dtype="float32", allow_cpu=True, num_inference_steps=2
    )
    assert backend.pipeline_class == "TextToVideoSDPipeline"
    assert isinstance(backend, VideoBackend)
    request = RenderRequest("a red kite over the sea", 5, 32, 32, 0.5, fps=8)
    first = backend.render(request)
    assert first.frames.shape == (4, 32, 32, 3)
    assert first.frames.dtype == np.uint8
    again = backend.render(request)
    assert np.array_equal(first.frames, again.frames)
    other = backend.render(RenderRequest("a red kite over the sea", 6, 32, 32, 0.5, fps=8))
    assert not np.array_equal(first.frames, other.frames)
    with pytest.raises(InvalidRenderRequest, match="divisible"):
        backend.render(RenderRequest("a kite", 1, 36, 32, 0.5, fps=8))
