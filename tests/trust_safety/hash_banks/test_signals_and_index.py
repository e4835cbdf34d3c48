"""Hashing, the vPDQ signal format and the match index, without a database."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.trust_safety.hash_banks.media import clip_frames, encoded, mp4, scene
from trust_safety.hash_banks.index import (
    BankContents,
    BankInfo,
    HammingIndex,
    MatchPolicy,
    vpdq_match_percents,
)
from trust_safety.hash_banks.signals import (
    PDQ,
    VPDQ,
    MediaHashes,
    VpdqFeature,
    bank_signals,
    centre_crop,
    hash_image,
    hash_video,
    parse_vpdq,
    pdq_of_rgb,
    validate_signal,
    vpdq_signal,
)


def bits(a: str, b: str) -> int:
    return int(
        np.unpackbits(
            np.frombuffer(bytes.fromhex(a), np.uint8) ^ np.frombuffer(bytes.fromhex(b), np.uint8)
        ).sum()
    )


def rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def test_pdq_survives_reencoding_resizing_and_a_caption_but_not_other_pictures() -> None:
    original = scene(1)
    h, quality = pdq_of_rgb(rgb(original))
    assert len(h) == 64 and quality >= 50
    jpeg = Image.open(io.BytesIO(encoded(original, "JPEG", quality=60)))
    assert bits(h, pdq_of_rgb(rgb(jpeg))[0]) <= 31
    assert bits(h, pdq_of_rgb(rgb(original.resize((160, 120))))[0]) <= 31
    captioned = original.copy()
    ImageDraw.Draw(captioned).text((10, 210), "a harmless caption", fill=(255, 255, 255))
    assert bits(h, pdq_of_rgb(rgb(captioned))[0]) <= 31
    assert bits(h, pdq_of_rgb(rgb(scene(2)))[0]) > 31


def test_a_crop_defeats_pdq_and_the_banked_centre_crops_catch_it() -> None:
    original = rgb(scene(3))
    cropped = centre_crop(original, 0.9)
    plain = pdq_of_rgb(original)[0]
    query = pdq_of_rgb(cropped)[0]
    assert bits(plain, query) > 31  # PDQ itself does not survive a 10 % crop
    banked = [s for t, s in bank_signals([original]) if t == PDQ]
    assert len(banked) == 4 and min(bits(b, query) for b in banked) <= 31


def test_hash_image_and_video_give_every_signal() -> None:
    data = encoded(scene(4))
    image = hash_image(data)
    assert image.pdq is not None and image.frames == 1 and len(image.sha256) == 64
    assert {s["signal_type"] for s in image.signals()} == {"md5", "sha256", "pdq"}
    video = hash_video(mp4(clip_frames(5, seconds=3)))
    assert 3 <= video.frames <= 4  # one frame a second
    assert [f.timestamp for f in video.vpdq][:3] == [0.0, 1.0, 2.0]
    assert {s["signal_type"] for s in video.signals()} == {"md5", "sha256", "vpdq"}


def test_the_vpdq_signal_is_threatexchanges_format() -> None:
    features = [VpdqFeature("ab" * 32, 100, 0.0), VpdqFeature("cd" * 32, 87, 1.0)]
    signal = vpdq_signal(features)
    assert signal == f'["{"ab" * 32},100,0.000", "{"cd" * 32},87,1.000"]'
    assert parse_vpdq(signal) == features
    assert validate_signal(VPDQ, signal) == signal
    for bad in ["[]", "not json", '["zz,1,0"]', f'["{"ab" * 32},101,0"]']:
        with pytest.raises(ValueError):
            validate_signal(VPDQ, bad)
    with pytest.raises(ValueError):
        validate_signal(PDQ, "12345")
    with pytest.raises(ValueError):
        validate_signal("photodna", "00")
    assert validate_signal(PDQ, "AB" * 32) == "ab" * 32


def test_vpdq_rule_matches_a_reencoded_clip_and_not_another() -> None:
    frames = clip_frames(6, seconds=4)
    banked = hash_video(mp4(frames)).vpdq
    again = hash_video(mp4([np.asarray(Image.fromarray(f).resize((120, 96))) for f in frames])).vpdq
    other = hash_video(mp4(clip_frames(7, seconds=4))).vpdq
    q, b = vpdq_match_percents(again, banked, distance=31, quality=50)
    assert q >= 80 and b >= 80
    q, _ = vpdq_match_percents(other, banked, distance=31, quality=50)
    assert q < 80


def test_hamming_index_range_search_shares_hashes_and_removes_in_place() -> None:
    rng = np.random.default_rng(0)
    hexes = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(200)]
    index = HammingIndex()
    index.add([(h, "bank-a") for h in hexes])
    index.add([(hexes[0], "bank-b")])
    assert len(index) == 200
    near = bytearray(bytes.fromhex(hexes[0]))
    near[0] ^= 0xFF  # 8 bits away
    found = index.search([bytes(near).hex()], 31)[0]
    assert {(key, d) for key, _, d in found} == {("bank-a", 8), ("bank-b", 8)}
    index.remove([(hexes[0], "bank-a")])
    assert {key for key, _, _ in index.search([hexes[0]], 0)[0]} == {"bank-b"}
    index.remove([(hexes[0], "bank-b")])
    assert index.search([hexes[0]], 31)[0] == [] and len(index) == 199


def test_bank_contents_match_exact_pdq_and_vpdq_and_skip_disabled_banks() -> None:
    contents = BankContents()
    contents.banks["csam-test"] = BankInfo("csam-test", "t", "csam", "block", True, None)
    contents.banks["off"] = BankInfo("off", "t", "ncii", "block", False, None)
    image = hash_image(encoded(scene(8)))
    assert image.pdq is not None
    contents.add("csam-test", [(PDQ, image.pdq[0])])
    contents.add("off", [("md5", image.md5)])
    policy = MatchPolicy()
    [m] = contents.match(image, policy)
    assert (m.bank_id, m.signal_type, m.distance) == ("csam-test", PDQ, 0)
    # the same file's MD5 in a disabled bank is not a match; nor is an unrelated picture
    assert contents.match(hash_image(encoded(scene(9))), policy) == []
    frames = clip_frames(10, seconds=3)
    clip = hash_video(mp4(frames))
    contents.add("csam-test", [(VPDQ, vpdq_signal(clip.vpdq))])
    [v] = [m for m in contents.match(hash_video(mp4(frames)), policy) if m.signal_type == VPDQ]
    assert v.query_match_pct is not None and v.query_match_pct >= 80
    contents.remove("csam-test", [(VPDQ, vpdq_signal(clip.vpdq))])
    assert [m for m in contents.match(clip, policy) if m.signal_type == VPDQ] == []
    low = MediaHashes("0" * 32, "0" * 64, pdq=(image.pdq[0], 10))
    assert contents.match(low, policy) == []  # under the quality floor: nothing to say


def test_our_vpdq_equals_the_vpdq_packages_hash_of_the_same_file() -> None:
    from pathlib import Path

    data = Path(__file__).parent / "data"
    reference = parse_vpdq(validate_signal(VPDQ, (data / "shapes_6s.vpdq").read_text()))
    ours = hash_video((data / "shapes_6s.mp4").read_bytes()).vpdq
    assert [(f.pdq_hex, f.quality, f.timestamp) for f in ours] == [
        (f.pdq_hex, f.quality, f.timestamp) for f in reference
    ]
    assert vpdq_match_percents(ours, reference, distance=31, quality=50) == (100.0, 100.0)
