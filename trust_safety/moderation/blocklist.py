"""Category blocklists as versioned data, and the stage that applies them.

A ``Blocklist`` is immutable: an admin edit returns a new list with the version bumped, so a
decision that records the version it saw can be replayed against exactly that list. The
shipped list is ``data/blocklists.json``; in the service the live list is the projection of
``BlocklistTermAdded`` / ``BlocklistTermRemoved`` events over it.

Entries hold only unambiguous terms. Words that are harmless in most prompts ("shoot",
"blood", "kid") belong to the semantic stage, which sees context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from trust_safety.moderation.categories import Category, parse_category
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import (
    InvalidBlocklistEdit,
    InvalidModerationData,
    StaleListVersion,
)
from trust_safety.moderation.lexicon import Lexicon, term_form, term_regex
from trust_safety.moderation.normalise import NormalisedPrompt
from trust_safety.moderation.policy import WEAK_SIGNAL_PREFIX
from trust_safety.moderation.stages import Evidence, ModerationContext, StageResult

MAX_TERM_CHARS = 80

# Words that put what follows them out of the request: "no gore", "without nudity", "free of
# blood". The scope ends at the clause (punctuation, "but", "and then", "with") and after a few
# words, so "no gore but a beheading" keeps the beheading, and a negated word only stops
# counting as a list hit: the semantic stage still reads the whole prompt, so a harmful request
# is not excused by a disclaimer tacked onto it.
_NEGATION_CUES = (
    r"no|not|without|never|zero|minus|free of|instead of|rather than|avoid|avoiding|"
    r"sin|sans|ohne|senza|sem|kein|keine|keinen|pas de|sans aucun|nada de"
)
_SCOPE_WORDS = 3
_NEGATED = r"(?<![a-z0-9])(?:{cues})(?:\s+(?!but\b|with\b|and\b|then\b)[a-z0-9'-]+){{0,{n}}}?\s+(?P<term>{term})"


@dataclass(frozen=True)
class Blocklist:
    version: int
    terms: Mapping[Category, frozenset[str]]
    # Idioms that make a listed word harmless ("naked eye"); shared by every category.
    allow: frozenset[str] = frozenset()
    # Words that are risky only in context ("stabbed", "ballots"): they refuse nothing alone
    # but raise a ``weak_term:<category>`` signal the policy adds to the semantic score.
    weak: Mapping[Category, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.version < 1:
            raise InvalidModerationData(f"blocklist version must be >= 1, got {self.version}")
        # Compiled once per version; the dataclass is frozen, so set it past __setattr__.
        lexicons = {
            category: Lexicon(entries, exceptions=self.allow)
            for category, entries in self.terms.items()
            if entries
        }
        object.__setattr__(self, "_lexicons", lexicons)
        weak = {
            category: Lexicon(entries, exceptions=self.allow)
            for category, entries in self.weak.items()
            if entries
        }
        object.__setattr__(self, "_weak_lexicons", weak)

    @property
    def label(self) -> str:
        return f"blocklist@{self.version}"

    def lexicon(self, category: Category) -> Lexicon | None:
        lexicons: dict[Category, Lexicon] = self.__dict__["_lexicons"]
        return lexicons.get(category)

    def weak_lexicon(self, category: Category) -> Lexicon | None:
        lexicons: dict[Category, Lexicon] = self.__dict__["_weak_lexicons"]
        return lexicons.get(category)

    def entries(self, category: Category) -> frozenset[str]:
        return self.terms.get(category, frozenset())

    def _check_version(self, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise StaleListVersion(
                f"the blocklist is at version {self.version}, the edit expected {expected_version}"
            )

    def with_term(
        self, category: Category, term: str, *, expected_version: int | None = None
    ) -> Blocklist:
        self._check_version(expected_version)
        canon = validate_term(term)
        current = self.entries(category)
        if canon in current:
            raise InvalidBlocklistEdit(f"{category.value} already lists this term")
        return Blocklist(
            self.version + 1, {**self.terms, category: current | {canon}}, self.allow, self.weak
        )

    def without_term(
        self, category: Category, term: str, *, expected_version: int | None = None
    ) -> Blocklist:
        self._check_version(expected_version)
        canon = validate_term(term)
        current = self.entries(category)
        if canon not in current:
            raise InvalidBlocklistEdit(f"{category.value} does not list this term")
        return Blocklist(
            self.version + 1, {**self.terms, category: current - {canon}}, self.allow, self.weak
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "lists": {c.value: sorted(t) for c, t in sorted(self.terms.items())},
            "allow": sorted(self.allow),
            "weak": {c.value: sorted(t) for c, t in sorted(self.weak.items())},
        }


def validate_term(term: str) -> str:
    if not isinstance(term, str):
        raise InvalidBlocklistEdit(f"a term must be a string, got {type(term).__name__}")
    if len(term) > MAX_TERM_CHARS:
        raise InvalidBlocklistEdit(f"a term is at most {MAX_TERM_CHARS} characters")
    canon = term_form(term)
    if len(canon.replace(" ", "")) < 3:
        raise InvalidBlocklistEdit(
            "a term needs at least 3 letters once normalised; shorter terms match too much"
        )
    return canon


def blocklist_from_json(data: Mapping[str, Any]) -> Blocklist:
    try:
        version = int(data["version"])
        lists = data["lists"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModerationData(f"blocklist data needs 'version' and 'lists': {exc}") from exc
    if not isinstance(lists, Mapping):
        raise InvalidModerationData("blocklist 'lists' must map category to terms")
    terms: dict[Category, frozenset[str]] = {}
    for raw_category, raw_terms in lists.items():
        category = parse_category(raw_category)
        if not isinstance(raw_terms, list) or not all(isinstance(t, str) for t in raw_terms):
            raise InvalidModerationData(f"blocklist {raw_category!r} must be a list of strings")
        try:
            terms[category] = frozenset(validate_term(t) for t in raw_terms)
        except InvalidBlocklistEdit as exc:
            raise InvalidModerationData(f"blocklist {raw_category!r}: {exc.detail}") from exc
    raw_allow = data.get("allow", [])
    if not isinstance(raw_allow, list) or not all(isinstance(a, str) for a in raw_allow):
        raise InvalidModerationData("blocklist 'allow' must be a list of strings")
    raw_weak = data.get("weak", {})
    if not isinstance(raw_weak, Mapping):
        raise InvalidModerationData("blocklist 'weak' must map category to terms")
    weak: dict[Category, frozenset[str]] = {}
    for raw_category, raw_terms in raw_weak.items():
        if not isinstance(raw_terms, list) or not all(isinstance(t, str) for t in raw_terms):
            raise InvalidModerationData(f"weak list {raw_category!r} must be a list of strings")
        weak[parse_category(raw_category)] = frozenset(
            term_form(t) for t in raw_terms if term_form(t)
        )
    allow = frozenset(term_form(a) for a in raw_allow if term_form(a))
    return Blocklist(version, terms, allow, weak)


def load_default_blocklist() -> Blocklist:
    return blocklist_from_json(shipped_json("blocklists.json"))


class BlocklistStage:
    """Scores 1.0 for a category when any of its terms appears in any view."""

    name = "blocklist"
    version = "1"

    def __init__(self, blocklist: Blocklist) -> None:
        self.blocklist = blocklist

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        scores: dict[Category, float] = {}
        evidence: list[Evidence] = []
        for category in Category:
            lexicon = self.blocklist.lexicon(category)
            if lexicon is None:
                continue
            for hit in lexicon.find(prompt):
                if _only_negated(prompt, hit.term):
                    evidence.append(
                        Evidence(category, "negated_term", hit.term, 0.0, view=hit.view)
                    )
                    continue
                scores[category] = 1.0
                evidence.append(Evidence(category, "blocklist_term", hit.term, 1.0, view=hit.view))
        signals: dict[str, float] = {}
        for category in Category:
            weak = self.blocklist.weak_lexicon(category)
            if weak is None:
                continue
            found: set[str] = set()
            for hit in weak.find(prompt):
                if _only_negated(prompt, hit.term):
                    evidence.append(
                        Evidence(category, "negated_term", hit.term, 0.0, view=hit.view)
                    )
                    continue
                found.add(hit.term)
                evidence.append(Evidence(category, "weak_term", hit.term, 0.0, view=hit.view))
            if found:
                # The count of distinct weak terms: the policy caps what one of them adds.
                signals[f"{WEAK_SIGNAL_PREFIX}{category.value}"] = float(len(found))
        return StageResult(
            stage=self.name,
            version=self.version,
            scores=scores,
            signals=signals,
            evidence=tuple(evidence),
            data_versions={"blocklist": str(self.blocklist.version)},
        )


def _only_negated(prompt: NormalisedPrompt, term: str) -> bool:
    """True when every occurrence of ``term`` in the base view sits in a negation's scope.

    Only the base view is read: a term found only through an obfuscated view (spaced out,
    leetspeak) is never treated as negated, because hiding a word is not how people say
    "no gore".
    """
    occurrences, negated = _negation_patterns(term)
    starts = [m.start() for m in occurrences.finditer(prompt.base)]
    if not starts:
        return False
    negated_starts = {m.start("term") for m in negated.finditer(prompt.base)}
    return all(start in negated_starts for start in starts)


@lru_cache(maxsize=4096)
def _negation_patterns(term: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A term's mentions, and its mentions inside a negation; compiled once per term."""
    form = term_regex(term)
    return (
        re.compile(rf"(?<![a-z0-9]){form}[a-z]*(?![a-z0-9])"),
        re.compile(_NEGATED.format(cues=_NEGATION_CUES, n=_SCOPE_WORDS, term=form)),
    )
