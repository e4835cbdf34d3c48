"""Names written in their own script ("Трамп", "トランプ", "特朗普", "트럼프", "ترامب").

The matchers' other views fold look-alike letters to Latin, which turns Cyrillic or Greek into
Latin nonsense, and match whole space-separated words, which Chinese and Japanese do not
have. A name whose letters are not Latin is therefore matched in the prompt as written
(``NormalisedPrompt.native``: NFKC, invisible characters removed, case folded), by the
script's own notion of a word:

* Han, kana and Thai are written without spaces: the name matches anywhere in the text (a
  name of one character is too ambiguous and is never compiled).
* Hangul separates words but glues particles on ("트럼프가", "트럼프는"): the name must start a
  word and may be followed by up to two syllables.
* Other alphabets (Cyrillic, Greek, Arabic, Devanagari, Hebrew…) inflect or take clitics:
  the name must start a word (Arabic may put و, ف, ب, ل, ال or وال in front) and may be
  followed by up to two letters ("Трампа", "Трампом"; not "трамплин").

Both the public-figure stage and the opt-out matcher use this, so a name in any script is
matched by one rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from trust_safety.moderation.language import script_of
from trust_safety.moderation.normalise import native_form

_UNSPACED = frozenset({"han", "kana", "thai", "lao", "khmer", "myanmar"})
_ARABIC_CLITICS = "(?:وال|ال|و|ف|ب|ل)?"

T = TypeVar("T")


def name_scripts(name: str) -> set[str]:
    return {s for s in (script_of(c) for c in name) if s is not None}


def is_native_name(name: str) -> bool:
    """A name with letters of a script other than Latin."""
    scripts = name_scripts(name)
    return bool(scripts) and scripts != {"latin"}


def native_pattern(name: str) -> re.Pattern[str] | None:
    """The pattern a name in its own script is found by, or None when it is too short to
    mean anyone (one Han character, one Hangul syllable)."""
    form = native_form(name)
    # Vowel signs of Indic scripts are marks, not letters, yet they are half of "मोदी".
    letters = [c for c in form if script_of(c) is not None or unicodedata.category(c)[0] == "M"]
    scripts = name_scripts(form)
    if not letters:
        return None
    # Any run of spaces, dots or middle dots between words of the name ("ドナルド・トランプ").
    body = r"[\s.·・\-]*".join(re.escape(part) for part in re.split(r"[\s.·・\-]+", form) if part)
    if scripts & _UNSPACED:
        if len(letters) < 2:
            return None
        return re.compile(body)
    if "hangul" in scripts:
        if len(letters) < 2:
            return None
        return re.compile(rf"(?<![^\W\d_]){body}[가-힣]{{0,2}}(?![^\W\d_])")
    if len(letters) < 3:
        return None
    prefix = _ARABIC_CLITICS if "arabic" in scripts else ""
    return re.compile(rf"(?<![^\W\d_]){prefix}{body}[^\W\d_]{{0,2}}(?![^\W\d_])")


@dataclass(frozen=True, slots=True)
class NativeHit(Generic[T]):
    owner: T
    name: str
    span: str


class NativeNameMatcher(Generic[T]):
    """Names in non-Latin scripts, each with its owner (a figure id, an opt-out id)."""

    def __init__(self, names: Iterable[tuple[T, str]]) -> None:
        # (owner, name, the longest literal piece every match contains, the pattern): a text
        # without the piece is not searched, so hundreds of names cost a substring test each.
        self._names: list[tuple[T, str, str, re.Pattern[str]]] = []
        for owner, name in names:
            if not is_native_name(name):
                continue
            pattern = native_pattern(name)
            if pattern is not None:
                pieces = re.split(r"[\s.·・\-]+", native_form(name))
                self._names.append((owner, name, max(pieces, key=len), pattern))

    def __len__(self) -> int:
        return len(self._names)

    def find(self, native_text: str) -> list[NativeHit[T]]:
        """Every owner whose name the text shows, once each, first name found."""
        if not self._names or native_text.isascii():
            return []
        hits: dict[T, NativeHit[T]] = {}
        for owner, name, piece, pattern in self._names:
            if owner in hits or piece not in native_text:
                continue
            found = pattern.search(native_text)
            if found is not None:
                hits[owner] = NativeHit(owner, name, found.group())
        return list(hits.values())
