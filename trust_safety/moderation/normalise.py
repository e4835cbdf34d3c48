"""Normalisation against evasion.

A single canonical form cannot undo every trick without harming ordinary prompts: folding
leetspeak turns "1080p, 3 cats" into "iobop, e cats". So the normaliser produces several
*views* of one prompt, each undoing a different family of tricks, and the matching stages
take the strongest signal across views. Every view starts from the same base:

- Unicode NFKC (fullwidth, mathematical alphanumerics, ligatures, circled letters),
- zero-width, bidi and other format/control characters removed,
- diacritics stripped and confusable homoglyphs (Cyrillic, Greek, small capitals...) folded
  to the Latin letter they imitate,
- case folded and whitespace collapsed.

Views:
- ``base``: the above; digits untouched.
- ``leet``: inside tokens that contain at least one letter, digits and symbols that stand in
  for letters are replaced (``s3x`` -> ``sex``, ``k!ll`` -> ``kill``); pure numbers stay.
- ``joined``: runs of single characters split by spaces or punctuation are glued back
  (``n a k e d``, ``n.a.k.e.d``), on top of the leet view, and letters repeated three or more
  times are cut to one ("heeeead" -> "head"; English never triples a letter).

Repeated letters are handled by :func:`squeeze`, which the matchers apply to both the text
and the list term, so "nuuuude" and "nude" meet without the view destroying "good" or "kill".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from trust_safety.moderation.errors import InvalidPrompt

MAX_PROMPT_CHARS = 4000

# Confusables that NFKC leaves alone. Curated from the Unicode confusables data for the
# scripts seen in evasion attempts; only letters that look like a Latin letter are folded.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "һ": "h",
    "ӏ": "l",
    "ԛ": "q",
    "ԝ": "w",
    "ɡ": "g",
    "ү": "y",
    "ᴀ": "a",
    "ʙ": "b",
    "ᴄ": "c",
    "ᴅ": "d",
    "ᴇ": "e",
    "ɢ": "g",
    "ʜ": "h",
    "ɪ": "i",
    "ᴊ": "j",
    "ᴋ": "k",
    "ʟ": "l",
    "ᴍ": "m",
    "ɴ": "n",
    "ᴏ": "o",
    "ᴘ": "p",
    "ʀ": "r",
    "ꜱ": "s",
    "ᴛ": "t",
    "ᴜ": "u",
    "ᴠ": "v",
    "ᴡ": "w",
    "ʏ": "y",
    "ᴢ": "z",
    "п": "n",
    "г": "r",
    "ь": "b",
    "з": "3",
    "ч": "4",
    "д": "d",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "δ": "d",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "σ": "o",
    "ς": "c",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "μ": "u",
    "ϲ": "c",
    "ϳ": "j",
    "ϵ": "e",
    # Latin look-alikes and IPA
    "ı": "i",
    "ȷ": "j",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŧ": "t",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ɑ": "a",
    "ɒ": "a",
    "ɛ": "e",
    "ɩ": "i",
    "ɵ": "o",
    "ʋ": "u",
    "ƅ": "b",
    "ɓ": "b",
    "ƈ": "c",
    "ɗ": "d",
    "ƒ": "f",
    "ɠ": "g",
    "ɦ": "h",
    "ƙ": "k",
    "ɱ": "m",
    "ɲ": "n",
    "ƥ": "p",
    "ʠ": "q",
    "ʂ": "s",
    "ƭ": "t",
    "ⱳ": "w",
    "ƴ": "y",
    "ȥ": "z",
    "ʐ": "z",
    # Cherokee / Armenian letters that render as Latin capitals after casefold
    "ꭺ": "a",
    "ꮯ": "c",
    "ꭼ": "e",
    "ꮋ": "h",
    "ꭵ": "i",
    "ꮶ": "k",
    "ꮇ": "m",
    "ꮪ": "s",
    "ꮖ": "t",
    "օ": "o",
    "ս": "u",
    "ց": "g",
    "հ": "h",
    "ո": "n",
    "ք": "p",
}
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)

# Stand-ins used in leetspeak; applied only inside tokens that also hold letters.
_LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "2": "z",
    "3": "e",
    "4": "a",
    "5": "s",
    "6": "g",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
    "€": "e",
    "£": "l",
    "¥": "y",
    "(": "c",
    "<": "c",
    "#": "h",
    "%": "x",
}
_LEET_TABLE = str.maketrans(_LEET)
_LEET_CHARS = re.escape("".join(_LEET))

# Format (Cf) characters are invisible: zero-width joiners, bidi overrides, soft hyphens.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")

_NUMBER_WITH_UNIT = re.compile(r"\d[\d.,:x/]*[a-z]{0,3}")
_TOKEN = re.compile(rf"[\w{_LEET_CHARS}]+", re.UNICODE)
# Single word characters separated by spacing or punctuation, at least three in a row:
# "n a k e d", "n.a.k.e.d", "n-a-k-e-d", "n_a_k_e_d".
# Separators of one run are all whitespace ("n a k e d") or all contain punctuation
# ("n.a.k.e.d", "n . a", "n..a"), so "h.a.n.g h.i.m" is two words, not one.
_PUNCTUATION = r"[.\-_*·•,/|:;~^'`\"+]"
_SPLIT_LETTERS = re.compile(
    rf"(?<![\w])\w(?:\s*(?:{_PUNCTUATION}\s*)+\w){{2,}}(?![\w])"
    rf"|(?<![\w])\w(?:\s{{1,3}}\w){{2,}}(?![\w])"
)
_SPLIT_SEPARATORS = re.compile(r"[\s.\-_*·•,/|:;~^'`\"+]+")
_WHITESPACE = re.compile(r"\s+")
_REPEATS = re.compile(r"(.)\1+")
_TRIPLES = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class NormalisedPrompt:
    """The views of one prompt. ``views`` maps a view name to its text."""

    original: str
    base: str
    leet: str
    joined: str
    # The glued runs found in ``joined``, so matchers can look for terms inside them: a
    # spaced-out word often swallows an article ("a n a k e d" -> "anaked").
    joined_runs: tuple[str, ...]
    # The prompt as written, only NFKC-normalised and case-folded (see ``native_form``);
    # derived from ``original`` when not given.
    native: str = ""

    def __post_init__(self) -> None:
        if not self.native:
            object.__setattr__(self, "native", native_form(self.original))

    @property
    def views(self) -> dict[str, str]:
        return {"base": self.base, "leet": self.leet, "joined": self.joined}

    def distinct_views(self) -> tuple[str, ...]:
        """What the embedder sees: the base view and, when it differs, the most repaired one.

        The leet view is a step towards ``joined`` and rarely adds meaning of its own, and
        every extra view costs one more row in the embedding batch.
        """
        if self.joined == self.base:
            return (self.base,)
        return (self.base, self.joined)


def strip_invisible(text: str) -> str:
    text = _VARIATION_SELECTORS.sub("", text)
    kept: list[str] = []
    for char in text:
        if char in "\t\n\r":
            kept.append(" ")
        elif unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            continue
        else:
            kept.append(char)
    return "".join(kept)


def fold_confusables(text: str) -> str:
    """Strip diacritics and fold homoglyphs to the Latin letters they imitate."""
    decomposed = unicodedata.normalize("NFD", text)
    without_marks = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", without_marks).translate(_CONFUSABLE_TABLE)


def base_form(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = strip_invisible(text)
    text = fold_confusables(text.casefold())
    # casefold can reintroduce composed forms (e.g. "ǰ"); fold once more for stability.
    text = fold_confusables(unicodedata.normalize("NFKC", text))
    return _WHITESPACE.sub(" ", text).strip()


def native_form(text: str) -> str:
    """NFKC, invisible characters removed, case folded, whitespace collapsed, and nothing
    else: the form a multilingual model reads. Diacritics and non-Latin letters stay, since
    folding Cyrillic look-alikes would turn Russian into nonsense."""
    text = strip_invisible(unicodedata.normalize("NFKC", text)).casefold()
    return _WHITESPACE.sub(" ", text).strip()


def fold_leet(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        # Opening brackets and trailing "!" are punctuation far more often than letters.
        body = token.lstrip("(<#%+").rstrip("!")
        head = token[: token.index(body)] if body else token
        tail = token[len(head) + len(body) :]
        # "1080p", "4k", "10th" or "x2" are numbers with a unit, not words in disguise.
        if not any(c.isalpha() for c in body) or _NUMBER_WITH_UNIT.fullmatch(body):
            return token
        return head + body.translate(_LEET_TABLE) + tail

    return _TOKEN.sub(replace, text)


def join_split_letters(text: str) -> tuple[str, tuple[str, ...]]:
    runs: list[str] = []

    def glue(match: re.Match[str]) -> str:
        run = _SPLIT_SEPARATORS.sub("", match.group(0))
        runs.append(run)
        return run

    return _SPLIT_LETTERS.sub(glue, text), tuple(runs)


def squeeze(text: str) -> str:
    """Collapse every run of a repeated character to one ("nuuude" -> "nude", "kill" -> "kil").

    Applied to both sides of a comparison, never used as a view on its own.
    """
    return _REPEATS.sub(r"\1", text)


def words_only(text: str) -> str:
    """Punctuation to single spaces, for whole-word matching."""
    return _NON_WORD.sub(" ", text).strip()


def normalise(prompt: str) -> NormalisedPrompt:
    if not isinstance(prompt, str):
        raise InvalidPrompt(f"prompt must be a string, got {type(prompt).__name__}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidPrompt(f"prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    base = base_form(prompt)
    if not base:
        raise InvalidPrompt("prompt is empty once invisible characters are removed")
    leet = fold_leet(base)
    joined, runs = join_split_letters(leet)
    # Leet inside a spaced-out word ("s 3 x") is only visible once the letters are glued.
    if runs:
        joined = fold_leet(joined)
        runs = tuple(fold_leet(r) for r in runs)
    joined = _TRIPLES.sub(r"\1", joined)
    return NormalisedPrompt(original=prompt, base=base, leet=leet, joined=joined, joined_runs=runs)
