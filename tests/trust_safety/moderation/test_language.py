"""Language identification: which prompts the gate covers, and which it must not approve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trust_safety.moderation.language import COVERED, LanguageStatus, identify

DATA = Path(__file__).resolve().parents[2] / "data"

SAMPLES = {
    "es": "un perro atrapando un frisbee en el parque al atardecer",
    "pt": "um cachorro pegando um frisbee no parque ao pôr do sol",
    "fr": "un chien qui attrape un frisbee dans le parc au coucher du soleil",
    "de": "ein Hund fängt im Park bei Sonnenuntergang eine Frisbee",
    "it": "un cane che prende un frisbee nel parco al tramonto",
    "ru": "собака ловит фрисби в парке на закате",
    "ja": "夕暮れの公園でフリスビーをキャッチする犬",
    "zh": "黄昏时分在公园里接飞盘的狗",
    "ko": "해질녘 공원에서 프리스비를 잡는 개",
    "ar": "كلب يلتقط الصحن الطائر في الحديقة عند الغروب",
    "hi": "सूर्यास्त के समय पार्क में फ्रिस्बी पकड़ता हुआ कुत्ता",
    "id": "seekor anjing menangkap frisbee di taman saat matahari terbenam",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_each_covered_language_is_identified(code: str) -> None:
    reading = identify(SAMPLES[code])
    assert reading.code == code and reading.status is LanguageStatus.COVERED


def test_the_covered_set_is_english_plus_the_twelve() -> None:
    assert {"en", *SAMPLES} == COVERED


def test_every_english_evaluation_prompt_reads_as_covered() -> None:
    """Obfuscated English (homoglyphs, spacing, held letters, invisible characters) must not
    read as an unsupported language: that would refuse ordinary prompts."""
    rows = []
    for name in ("prompts_dev.jsonl", "prompts_dev2.jsonl", "prompts_heldout.jsonl"):
        rows += [json.loads(line) for line in (DATA / name).open(encoding="utf-8")]
    uncovered = [r["text"] for r in rows if not identify(r["text"]).covered]
    assert uncovered == []
    homoglyph = [r["text"] for r in rows if r["variant"] == "homoglyph"]
    assert homoglyph and all(identify(t).code == "en" for t in homoglyph)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("een hond die een frisbee vangt in het park bij zonsondergang", "nl"),
        ("köpek gün batımında parkta bir frizbi yakalıyor", "tr"),
        ("собака ловить фрісбі в парку на заході сонця", "uk"),
        ("ένας σκύλος πιάνει ένα φρίσμπι στο πάρκο", "el"),
        ("สุนัขจับจานร่อนในสวนสาธารณะ", "th"),
    ],
)
def test_a_language_the_gate_does_not_cover_is_unsupported(text: str, code: str) -> None:
    reading = identify(text)
    assert reading.status is LanguageStatus.UNSUPPORTED and reading.code == code
    assert reading.detail and code in reading.detail


def test_a_short_prompt_stays_with_the_covered_language_it_may_be() -> None:
    # Too few words to tell Dutch from German: the covered reading stands.
    assert identify("een hond").covered


@pytest.mark.parametrize(
    "text",
    [
        "a woman голаяnaked on a bed",  # one word, two alphabets, not a homoglyph
        "한국어 नग्न महिला 텍스트 영상",  # Hangul and Devanagari in one prompt
    ],
)
def test_scripts_mixed_to_evade_are_not_covered(text: str) -> None:
    reading = identify(text)
    assert reading.status is LanguageStatus.MIXED_SCRIPTS and not reading.covered


@pytest.mark.parametrize(
    "text",
    [
        "クリスタルの3Dレンダリング",
        "阳台上挂着的LGBT彩虹旗",
        "東京の夜景と漢字の看板",
        "서울의 야경 漢字",
    ],
)
def test_latin_or_han_inside_cjk_text_is_ordinary(text: str) -> None:
    assert identify(text).covered


def test_a_prompt_without_letters_is_undetermined_and_left_to_the_english_stages() -> None:
    reading = identify("🔥🔥 2026 — 16:9 !!!")
    assert reading.code == "und" and reading.covered
