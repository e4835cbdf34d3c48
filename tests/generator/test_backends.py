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


def _tiny_clip_text(directory: Path, hidden_size: int) -> tuple[object, object]:
    """A CLIP tokenizer with a hand-written vocabulary (nothing downloaded) and a random
    CLIP text encoder of ``hidden_size``."""
    transformers = importlib.import_module("transformers")
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
            hidden_size=hidden_size,
            intermediate_size=37 if hidden_size == 32 else 4 * hidden_size,
            num_attention_heads=4 if hidden_size == 32 else 2,
            num_hidden_layers=2,
            max_position_embeddings=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    return tokenizer, text_encoder


def _tiny_text_to_video_pipeline(directory: Path) -> None:
    """A TextToVideoSDPipeline with random weights and a hand-written tokenizer vocabulary,
    saved the way an operator's weights directory is laid out."""
    diffusers = importlib.import_module("diffusers")
    torch = importlib.import_module("torch")
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
    tokenizer, text_encoder = _tiny_clip_text(directory, hidden_size=32)
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


def _tiny_image_to_video_pipeline(directory: Path) -> None:
    """An I2VGenXLPipeline (prompt and image in, video out) with random weights, sized after
    diffusers' own fast tests, saved the way an operator's weights directory is laid out."""
    diffusers = importlib.import_module("diffusers")
    torch = importlib.import_module("torch")
    transformers = importlib.import_module("transformers")
    unets = importlib.import_module("diffusers.models.unets")
    torch.manual_seed(0)
    unet = unets.I2VGenXLUNet(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=4,
        attention_head_dim=4,
        num_attention_heads=None,
        norm_num_groups=2,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=(8,),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D"],
        latent_channels=4,
        sample_size=32,
        norm_num_groups=2,
    )
    tokenizer, text_encoder = _tiny_clip_text(directory, hidden_size=4)
    image_encoder = transformers.CLIPVisionModelWithProjection(
        transformers.CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=1,
        )
    )
    pipe = diffusers.I2VGenXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        image_encoder=image_encoder,
        feature_extractor=transformers.CLIPImageProcessor(crop_size=32, size=32),
        unet=unet,
        scheduler=diffusers.DDIMScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            clip_sample=False,
            set_alpha_to_one=False,
        ),
    )
    pipe.save_pretrained(str(directory))


@pytest.mark.slow
def test_an_image_to_video_pipeline_renders_image_requests(tmp_path: Path) -> None:
    """Text requests go to WEIGHTS_DIR's pipeline, image requests (image_to_video, and an
    extend's last frame) to IMAGE_WEIGHTS_DIR's image-to-video pipeline, which is given the
    image: the same image renders the same clip, another image another clip."""
    text, image = tmp_path / "text", tmp_path / "image"
    _tiny_text_to_video_pipeline(text)
    _tiny_image_to_video_pipeline(image)
    backend = DiffusersBackend(
        text,
        image_weights_dir=image,
        device="cpu",
        dtype="float32",
        allow_cpu=True,
        num_inference_steps=2,
    )
    rng = np.random.default_rng(3)
    picture = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    other = 255 - picture
    request = RenderRequest("a red kite", 5, 32, 32, 0.5, fps=8, image=picture)
    first = backend.render(request)
    assert first.frames.shape == (4, 32, 32, 3) and first.frames.dtype == np.uint8
    assert first.model_id == "I2VGenXLPipeline:image"
    assert np.array_equal(first.frames, backend.render(request).frames)
    # Random weights this small barely respond to their input, but they do: only the image
    # differs between these two renders.
    moved = backend.render(RenderRequest("a red kite", 5, 32, 32, 0.5, fps=8, image=other))
    changed = np.abs(moved.frames.astype(np.int16) - first.frames)
    assert changed.max() >= 1 and changed.mean() > 0.01, (changed.max(), changed.mean())
    assert backend.render(RenderRequest("a red kite", 5, 32, 32, 0.5, fps=8)).model_id == (
        "TextToVideoSDPipeline:text"
    )

    # An image-to-video pipeline alone takes no text-only request, and IMAGE_WEIGHTS_DIR
    # must hold an image-to-video pipeline.
    alone = DiffusersBackend(image, device="cpu", allow_cpu=True)
    with pytest.raises(InvalidRenderRequest, match="animates an image"):
        alone.render(RenderRequest("a red kite", 5, 32, 32, 0.5, fps=8))
    with pytest.raises(BackendUnavailable, match="not a supported image-to-video pipeline"):
        DiffusersBackend(text, image_weights_dir=text, device="cpu", allow_cpu=True)
