"""Which language a prompt is in, and whether the gate covers it.

The gate moderates the languages it has been measured on (``COVERED``). Everything else is
not approved by default: a prompt in another language, or one whose words mix scripts to slip
past the lists, is referred to the LLM filter when one is configured and otherwise refused as
"language not supported yet". The harm stages still run on it, so a prompt the embedding or a
list can already read is refused for what it says.

Identification works offline in two steps. The script of the letters settles most languages
at once (Hangul is Korean, kana is Japanese, Han alone is Chinese). Within a script shared by
several languages (Latin, Cyrillic, Arabic, Devanagari), ``py3langid``'s model, shipped in
its wheel, ranks that script's languages only: short prompts are where identifiers guess
wildly ("un perro atrapando un frisbee" reads as Galician to the unrestricted model), so a
covered language keeps the prompt unless another language is clearly more likely.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.once import once

COVERED: frozenset[str] = frozenset(
    {"en", "es", "pt", "fr", "de", "it", "ru", "ja", "zh", "ko", "ar", "hi", "id"}
)
# The covered languages not written in Latin script.
NON_LATIN_LANGUAGES: frozenset[str] = frozenset({"ru", "ja", "zh", "ko", "ar", "hi"})
# Undetermined: no letters at all (emoji, numbers); the English stages read what there is.
UNDETERMINED = "und"


class LanguageStatus(StrEnum):
    COVERED = "covered"
    UNSUPPORTED = "unsupported"
    MIXED_SCRIPTS = "mixed_scripts"


# The languages ranked within each shared script. A covered language is listed first; the
# others are there so that a clearly Dutch or Ukrainian prompt is not read as German or Russian.
_CANDIDATES: Mapping[str, tuple[str, ...]] = {
    "latin": (
        "en",
        "es",
        "pt",
        "fr",
        "de",
        "it",
        "id",
        "ms",
        "nl",
        "af",
        "pl",
        "cs",
        "sk",
        "sl",
        "hr",
        "bs",
        "ro",
        "hu",
        "tr",
        "vi",
        "sv",
        "da",
        "no",
        "nb",
        "fi",
        "et",
        "lv",
        "lt",
        "sq",
        "sw",
        "tl",
        "eu",
        "ca",
        "gl",
        "cy",
        "ga",
        "mt",
        "az",
        "uz",
        "eo",
        "la",
        "is",
        "lb",
        "wa",
        "oc",
        "br",
        "qu",
        "xh",
        "zu",
        "rw",
        "mg",
        "ht",
        "jv",
        "se",
    ),
    "cyrillic": ("ru", "uk", "bg", "mk", "sr", "be", "kk", "ky", "mn"),
    "arabic": ("ar", "fa", "ur", "ps", "ug", "ku"),
    "devanagari": ("hi", "mr", "ne"),
}
# Languages the identifier confuses with a covered one and that the covered one's lists and
# exemplars read well (Malay and Indonesian are one language in two standards; Galician sits
# between Portuguese and Spanish).
_READ_AS: Mapping[str, str] = {"ms": "id", "gl": "es"}
# Within a shared script the covered reading stands unless another language is at least this
# probable and the prompt has enough words to tell them apart.
_CONFIDENT = 0.9  # the covered languages together below 1 - this
_MIN_WORDS_TO_OVERRULE = 4
# Scripts whose language is the script: no identifier needed.
_SCRIPT_LANGUAGE: Mapping[str, str] = {
    "hangul": "ko",
    "kana": "ja",
    "han": "zh",
    "greek": "el",
    "hebrew": "he",
    "thai": "th",
    "georgian": "ka",
    "armenian": "hy",
    "bengali": "bn",
    "tamil": "ta",
    "telugu": "te",
    "gujarati": "gu",
    "gurmukhi": "pa",
    "kannada": "kn",
    "malayalam": "ml",
    "sinhala": "si",
    "khmer": "km",
    "lao": "lo",
    "myanmar": "my",
    "ethiopic": "am",
    "tibetan": "bo",
}
# A second non-Latin script is normal only in these pairs (Japanese writes Han with kana;
# Korean sometimes writes Han next to Hangul).
_NATURAL_PAIRS = (frozenset({"han", "kana"}), frozenset({"han", "hangul"}))
# Alphabets whose letters pass for each other's (the homoglyph families).
_LOOKALIKE_SCRIPTS = frozenset({"latin", "cyrillic", "greek", "armenian", "cherokee"})
# A second non-Latin script this large is a prompt written in two scripts at once.
_MIXED_SHARE = 0.15
_WORD = re.compile(r"\w+", re.UNICODE)
_HELD_LETTER = re.compile(r"([^\W\d_])\1{2,}")
# Text whose letters are this Latin once look-alikes are folded is Latin text in disguise.
_DISGUISED_LATIN = 0.95


def script_of(char: str) -> str | None:
    """The script group of a letter, or None for anything that is not a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    head = name.split(" ", 1)[0]
    if head in ("CJK", "IDEOGRAPHIC") or name.startswith("KANGXI"):
        return "han"
    if head in ("HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "HALFWIDTH") and "KATAKANA" in name:
        return "kana"
    if head == "HIRAGANA":
        return "kana"
    if head == "HANGUL":
        return "hangul"
    if head in ("LATIN", "FULLWIDTH"):
        return "latin"
    return head.lower() or None


@dataclass(frozen=True, slots=True)
class LanguageReading:
    code: str
    status: LanguageStatus
    script: str | None
    confidence: float
    # Share of the letters in each script group.
    scripts: Mapping[str, float] = field(default_factory=dict)
    # Why the status is what it is, for reviewers ("mixed scripts in 'nаkеdь'").
    detail: str | None = None

    @property
    def covered(self) -> bool:
        return self.status is LanguageStatus.COVERED

    def to_record(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status.value,
            "script": self.script,
            "confidence": round(self.confidence, 4),
            "scripts": {k: round(v, 3) for k, v in sorted(self.scripts.items())},
            "detail": self.detail,
        }


@once
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _rank(text: str, candidates: tuple[str, ...]) -> list[tuple[str, float]]:
    """``candidates`` ranked by the identifier, probabilities renormalised over them."""
    identifier = _identifier()
    known = [c for c in candidates if c in identifier.nb_classes]
    scores = identifier.rank(text)
    kept = [(code, float(p)) for code, p in scores if code in known]
    total = sum(p for _, p in kept) or 1.0
    return [(code, p / total) for code, p in kept]


def _mixed_word(words: list[str]) -> str | None:
    """A word whose letters come from two look-alike alphabets and do not all fold to Latin.

    Only alphabets that imitate each other count: Japanese or Chinese run Latin letters into
    one "word" with kana or Han all the time ("3dレンダリング"), and that is no trick.

    A homoglyph word ("nаked" with a Cyrillic a) folds wholly to Latin and the English stages
    read it; a word that is half Latin, half Cyrillic after folding is written to be read by
    no list at all.
    """
    from trust_safety.moderation.normalise import fold_confusables

    for word in words:
        scripts = {s for c in word if (s := script_of(c)) is not None} & _LOOKALIKE_SCRIPTS
        if len(scripts) < 2:
            continue
        folded = {s for c in fold_confusables(word) if (s := script_of(c)) is not None}
        if folded != {"latin"}:
            return word
    return None


def _repaired(prompt: str) -> str:
    """The prompt with the evasion tricks undone that do not change its language: invisible
    characters, spaced-out letters and letters held for emphasis ("raaaain")."""
    from trust_safety.moderation.normalise import join_split_letters, strip_invisible

    text = strip_invisible(unicodedata.normalize("NFKC", prompt)).casefold()
    text, _ = join_split_letters(text)
    return _HELD_LETTER.sub(r"\1", text)


def identify(prompt: str) -> LanguageReading:
    text = _repaired(prompt)
    letters = Counter(s for c in text if (s := script_of(c)) is not None)
    total = sum(letters.values())
    if total == 0:
        return LanguageReading(UNDETERMINED, LanguageStatus.COVERED, None, 1.0)
    shares = {script: count / total for script, count in letters.items()}
    words = _WORD.findall(text)
    if "latin" in shares and len(shares) > 1:
        # Latin text with look-alike letters from other scripts ("а hаrdсorе sсеnе" with
        # Cyrillic а, с, е) is English in disguise: it is read folded, as the lists read it.
        # Real Cyrillic or Greek text keeps most of its letters through the fold.
        from trust_safety.moderation.normalise import fold_confusables

        folded = fold_confusables(text)
        folded_letters = Counter(s for c in folded if (s := script_of(c)) is not None)
        if folded_letters["latin"] >= _DISGUISED_LATIN * sum(folded_letters.values()):
            text = folded
            letters = folded_letters
            total = sum(letters.values())
            shares = {script: count / total for script, count in letters.items()}
            words = _WORD.findall(text)
    mixed = _mixed_word(words)
    if mixed is not None:
        return _mixed_scripts(shares, f"one word mixes scripts: {mixed[:40]!r}")
    non_latin = {s: v for s, v in shares.items() if s != "latin" and v >= _MIXED_SHARE}
    if len(non_latin) >= 2 and frozenset(non_latin) not in _NATURAL_PAIRS:
        return _mixed_scripts(shares, f"written in several scripts: {sorted(non_latin)}")
    # Latin next to another script is ordinary (a brand or a loanword): the other script says
    # which language it is.
    script = max(non_latin or shares, key=lambda s: shares[s])
    if script == "han" and "kana" in shares:
        script = "kana"
    if script == "han" and "hangul" in shares:
        script = "hangul"
    if script in _SCRIPT_LANGUAGE:
        code = _SCRIPT_LANGUAGE[script]
        return _reading(code, script, 1.0, shares)
    candidates = _CANDIDATES.get(script)
    if candidates is None:
        return _reading(UNDETERMINED, script, 1.0, shares, detail=f"script {script} not covered")
    ranked = _rank(text, candidates)
    if not ranked:
        return _reading(candidates[0], script, 0.0, shares)
    read = [(_READ_AS.get(code, code), p) for code, p in ranked]
    covered_mass = sum(p for code, p in read if code in COVERED)
    best, best_p = read[0]
    if best not in COVERED and (
        covered_mass >= 1.0 - _CONFIDENT or len(words) < _MIN_WORDS_TO_OVERRULE
    ):
        best, best_p = next((code, p) for code, p in read if code in COVERED)
    return _reading(best, script, best_p, shares)


def _mixed_scripts(shares: Mapping[str, float], detail: str) -> LanguageReading:
    dominant = max(shares, key=lambda s: shares[s])
    return LanguageReading(
        UNDETERMINED, LanguageStatus.MIXED_SCRIPTS, dominant, 1.0, shares, detail=detail
    )


def _reading(
    code: str,
    script: str,
    confidence: float,
    shares: Mapping[str, float],
    detail: str | None = None,
) -> LanguageReading:
    status = LanguageStatus.COVERED if code in COVERED else LanguageStatus.UNSUPPORTED
    if status is LanguageStatus.UNSUPPORTED and detail is None:
        detail = f"language {code} not covered"
    return LanguageReading(code, status, script, confidence, shares, detail)
