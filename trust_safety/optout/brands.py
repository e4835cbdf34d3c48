"""Brands in prompts: a rights holder's brand is described generically, not refused.

Sora's filter describes branded objects generically; here the brand holder decides which
brands and the words that replace them ("Fizzco" -> "cola"). A prompt naming the brand is
approved with the object rewritten ("a Fizzco can on a beach" -> "a cola can on a beach"),
and the rewrite is kept in the decision with the opt-out it enforced. The brand is matched
as a whole word in any case, with its aliases, a possessive or a trademark sign, and with
flexible spacing and hyphens ("Fizz-co", "FIZZ CO").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from trust_safety.moderation.normalise import strip_invisible
from trust_safety.moderation.stages import Rewrite
from trust_safety.optout.facts import Scope
from trust_safety.optout.registry import OptOutRecord
from trust_safety.optout.territories import applies_in

REWRITE_KIND = "brand_generic"
# Evidence of a rewrite cites ``brand:<optout id>``: it blocked nothing, so the holder's
# blocked-request counts (which read ``optout:<id>``) never include it.
BRAND_REF_PREFIX = "brand:"

_MARKS = r"(?:\s?[™®©])?"
_VOWEL_SOUND = re.compile(r"^[aeiou]", re.IGNORECASE)


def _name_pattern(name: str) -> str:
    # Any letter may be followed by a space, hyphen or dot ("Fizz-co", "F.I.Z.Z.C.O"):
    # the brand typed apart is still the brand, and whole-word bounds keep it from matching
    # inside other words.
    letters = [c for c in name if not (c.isspace() or c in "-_.")]
    return r"[\s\-_.]?".join(re.escape(c) for c in letters)


@dataclass(frozen=True)
class _CompiledBrand:
    optout_id: str
    territories: frozenset[str]
    name: str
    generic: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class BrandMention:
    optout_id: str
    brand: str
    generic: str


class BrandRewriter:
    """Compiled from the registry's prompt-scoped opt-outs that list brands."""

    def __init__(self, optouts: Iterable[OptOutRecord]) -> None:
        compiled: list[_CompiledBrand] = []
        for record in optouts:
            if not record.enforced(Scope.PROMPTS):
                continue
            for brand in record.terms.brands:
                names = sorted(brand.all_names(), key=len, reverse=True)
                alternation = "|".join(_name_pattern(n) for n in names)
                pattern = re.compile(rf"(?<![\w])(?:{alternation}){_MARKS}(?![\w])", re.IGNORECASE)
                compiled.append(
                    _CompiledBrand(
                        record.optout_id, record.territories, brand.name, brand.generic, pattern
                    )
                )
        self._brands = tuple(compiled)

    @property
    def brand_count(self) -> int:
        return len(self._brands)

    def _applicable(self, territory: str | None) -> list[_CompiledBrand]:
        return [b for b in self._brands if applies_in(b.territories, territory)]

    def rewrite(
        self, prompt: str, territory: str | None = None
    ) -> tuple[Rewrite, list[BrandMention]] | None:
        source = strip_invisible(prompt)
        brands = [b for b in self._applicable(territory) if b.pattern.search(source)]
        if not brands:
            return None

        def apply(text: str) -> str:
            for brand in brands:
                text = _substitute(brand, text)
            return text

        mentions = [BrandMention(b.optout_id, b.name, b.generic) for b in brands]
        refs = tuple(dict.fromkeys(f"{BRAND_REF_PREFIX}{b.optout_id}" for b in brands))
        return Rewrite(REWRITE_KIND, prompt, apply(source), refs, apply=apply), mentions


def _substitute(brand: _CompiledBrand, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        generic = brand.generic
        if match.group()[:1].isupper() and _sentence_start(text, match.start()):
            generic = generic[0].upper() + generic[1:]
        return generic

    rewritten = brand.pattern.sub(replace, text)
    return _fix_articles(rewritten, brand.generic)


def _sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in '.!?:\n"“('


def _fix_articles(text: str, generic: str) -> str:
    """ "a Apple-branded" reads wrong once "an" is due: fix the article before the generic."""
    article = "an" if _VOWEL_SOUND.match(generic) else "a"
    wrong = "a" if article == "an" else "an"
    pattern = re.compile(rf"\b({wrong})(\s+)(?={re.escape(generic)}\b)", re.IGNORECASE)

    def fix(match: re.Match[str]) -> str:
        word = match.group(1)
        fixed = article if word.islower() else article.capitalize()
        return fixed + match.group(2)

    return pattern.sub(fix, text)
