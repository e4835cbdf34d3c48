"""Matching prompts against the IP opt-out registry.

Three methods, all on the moderation normaliser's views of the prompt (base, leet-folded,
split-letters-joined), in "squeezed word space" (punctuation to spaces, repeated letters
collapsed) on both sides:

* **alias**: a protected name (work, character, alias, listed misspelling) appears as whole
  words. Names are compared with their spaces removed, so "spider man", "spider-man" and
  "spiderman" are one name; a trailing plural "s" is tolerated.
* **fuzzy**: a run of prompt words is within a small edit distance (optimal string alignment,
  so a swapped pair of letters is one edit) of a distinctive name. Guarded against false
  positives: names shorter than ``min_fuzzy_length`` only match exactly, the first letter
  must agree, the edit budget grows slowly with length, and a window made only of real
  English words is never a misspelling ("maria" is not "mario").
* **semantic**: the prompt's embedding is close to a description the rights holder gave
  ("a yellow electric mouse creature"), which catches paraphrase that names nothing.

A name that is itself an everyday word or phrase ("Frozen", "Cars", "The Dark Knight") is
*ambiguous*: it matches only when something else in the prompt corroborates it, either
another name of the same opt-out or semantic closeness to that opt-out's descriptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from trust_safety.classifiers.text_embedding import TextEmbedder
from trust_safety.moderation.lexicon import canonical_term
from trust_safety.moderation.native_names import NativeNameMatcher, is_native_name
from trust_safety.moderation.normalise import NormalisedPrompt, base_form, squeeze, words_only
from trust_safety.moderation.vocabulary import EnglishVocabulary, default_vocabulary
from trust_safety.optout.errors import EmbeddingMismatch
from trust_safety.optout.facts import Scope
from trust_safety.optout.registry import OptOutRecord
from trust_safety.optout.territories import applies_in


class MatchMethod(StrEnum):
    ALIAS = "alias"
    FUZZY = "fuzzy"
    SEMANTIC = "semantic"


class TermKind(StrEnum):
    NAME = "name"
    # One distinctive word of a longer name ("Vader"); derived, so it must pass the usage test.
    IMPLICIT = "implicit"
    MISSPELLING = "misspelling"


@dataclass(frozen=True)
class MatcherSettings:
    min_fuzzy_length: int = 6
    # Edits allowed by name length (joined, squeezed): (min_length, edits), highest first.
    fuzzy_budget: tuple[tuple[int, int], ...] = ((13, 3), (9, 2), (6, 1))
    # Cosine to a rights holder's description above which the prompt matches on meaning,
    # after the generic-anchor discount.
    semantic_threshold: float = 0.64
    # Lower bar that only corroborates an ambiguous name already present in the prompt.
    corroboration_threshold: float = 0.55
    # How much of the lead of a closer generic anchor is taken off a description's score.
    anchor_contrast: float = 1.0
    # Frequency ranks (see vocabulary.py): one-word names more common than
    # ``single_word_common_rank`` are ambiguous; names of several words are ambiguous only
    # when every word is more common than ``phrase_common_rank``.
    single_word_common_rank: int = 16000
    very_common_rank: int = 5000
    phrase_common_rank: int = 7000
    # A word of a longer name that is no English word at all ("Dumbledore" in "Albus
    # Dumbledore") is distinctive enough to match on its own from this length on.
    implicit_alias_min_length: int = 6
    max_window_words: int = 6

    def edits_allowed(self, length: int) -> int:
        for min_length, edits in self.fuzzy_budget:
            if length >= min_length:
                return edits
        return 0


@dataclass(frozen=True)
class OptOutPromptMatch:
    optout_id: str
    method: MatchMethod
    score: float
    # The protected name or description index that matched: internal evidence for reviewers
    # and the rights holder, never shown to the requester.
    matched: str
    view: str
    prompt_span: str


@dataclass(frozen=True)
class PromptMatchResult:
    matches: tuple[OptOutPromptMatch, ...]
    # Ambiguous names seen but not corroborated: kept for review, they block nothing.
    uncorroborated: tuple[OptOutPromptMatch, ...] = ()

    @property
    def optout_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.optout_id for m in self.matches))

    def best_by_optout(self) -> dict[str, OptOutPromptMatch]:
        best: dict[str, OptOutPromptMatch] = {}
        for match in self.matches:
            current = best.get(match.optout_id)
            if current is None or match.score > current.score:
                best[match.optout_id] = match
        return best

    @property
    def top_score(self) -> float:
        return max((m.score for m in self.matches), default=0.0)


@dataclass(frozen=True)
class _Term:
    optout_id: str
    text: str
    kind: TermKind
    tokens: tuple[str, ...]
    raw_tokens: tuple[str, ...]
    joined: str
    ambiguous: bool
    # One everyday word so common ("frozen", "cars") that its position says nothing.
    very_common: bool


@dataclass
class _CompiledOptOut:
    optout_id: str
    territories: frozenset[str]
    description_rows: list[int] = field(default_factory=list)
    name_rows: list[int] = field(default_factory=list)


class OptOutPromptMatcher:
    """Compiled from the registry's prompt-scoped opt-outs; rebuild it when the registry moves.

    Compilation embeds every description once; matching embeds only the prompt's views (a
    cache hit when the moderation pipeline's semantic stage embedded them first).
    """

    def __init__(
        self,
        optouts: Iterable[OptOutRecord],
        embedder: TextEmbedder | None,
        *,
        vocabulary: EnglishVocabulary | None = None,
        settings: MatcherSettings | None = None,
        generic_anchors: Sequence[str] | None = None,
    ) -> None:
        self.settings = settings or MatcherSettings()
        self.vocabulary = vocabulary or default_vocabulary()
        self.embedder = embedder
        self._optouts: dict[str, _CompiledOptOut] = {}
        self._by_joined: dict[str, list[_Term]] = {}
        fuzzy_terms: list[_Term] = []
        semantic_texts: list[str] = []
        semantic_owner: list[str] = []
        native_names: list[tuple[str, str]] = []
        for record in optouts:
            if not record.enforced(Scope.PROMPTS):
                continue
            compiled = _CompiledOptOut(record.optout_id, record.territories)
            self._optouts[record.optout_id] = compiled
            # Names in other scripts ("ピカチュウ", "Человек-паук") are matched as written.
            native_names.extend(
                (record.optout_id, n)
                for n in [*record.terms.names(), *record.terms.misspellings]
                if is_native_name(n)
            )
            latin = [n for n in record.terms.names() if not is_native_name(n)]
            named = [(n, TermKind.NAME) for n in latin]
            named += [(w, TermKind.IMPLICIT) for w in self._implicit_aliases(latin)]
            named += [
                (m, TermKind.MISSPELLING)
                for m in record.terms.misspellings
                if not is_native_name(m)
            ]
            for text, kind in named:
                term = self._compile_term(record.optout_id, text, kind)
                if term is None:
                    continue
                self._by_joined.setdefault(term.joined, []).append(term)
                # Every name long enough is a fuzzy target, listed misspellings too ("spidermen"
                # of "spiderman"); a fuzzy hit on an ambiguous name needs corroboration like an
                # exact one ("a frozn lake" is a typo of the word, not of the film).
                if len(term.joined) >= self.settings.min_fuzzy_length:
                    fuzzy_terms.append(term)
            for description in record.terms.descriptions:
                compiled.description_rows.append(len(semantic_texts))
                semantic_texts.append(canonical_term(description))
                semantic_owner.append(record.optout_id)
            for name in record.terms.names():
                compiled.name_rows.append(len(semantic_texts))
                semantic_texts.append(canonical_term(name))
                semantic_owner.append(record.optout_id)
        self._native = NativeNameMatcher(native_names)
        self._fuzzy_terms = fuzzy_terms
        self._fuzzy_joined = [t.joined for t in fuzzy_terms]
        self._semantic_texts = semantic_texts
        self._semantic_owner = semantic_owner
        self._max_words = min(
            self.settings.max_window_words,
            max((len(t.tokens) for ts in self._by_joined.values() for t in ts), default=1) + 1,
        )
        if embedder is not None and semantic_texts:
            matrix = np.asarray(embedder.embed(semantic_texts), dtype=np.float32)
            if matrix.shape != (len(semantic_texts), embedder.dim):
                raise EmbeddingMismatch(
                    f"embedder {embedder.model_id} returned {matrix.shape}, "
                    f"expected {(len(semantic_texts), embedder.dim)}"
                )
            self._semantic_matrix: np.ndarray | None = matrix
            anchors = list(generic_anchors if generic_anchors is not None else default_anchors())
            self._anchor_matrix: np.ndarray | None = (
                np.asarray(embedder.embed([canonical_term(a) for a in anchors]), dtype=np.float32)
                if anchors
                else None
            )
        else:
            self._semantic_matrix = None
            self._anchor_matrix = None

    @property
    def optout_count(self) -> int:
        return len(self._optouts)

    def _implicit_aliases(self, names: Sequence[str]) -> list[str]:
        """Single words of multi-word names that are not English words: people say "Vader"
        for "Darth Vader" and "Dumbledore" for "Albus Dumbledore"."""
        out: list[str] = []
        for name in names:
            words = words_only(base_form(name)).split()
            if len(words) < 2:
                continue
            for word in words:
                if (
                    len(word) >= self.settings.implicit_alias_min_length
                    and word.isalpha()
                    and not self.vocabulary.is_word(word)
                    and word not in out
                ):
                    out.append(word)
        return out

    def _compile_term(self, optout_id: str, text: str, kind: TermKind) -> _Term | None:
        raw_tokens = words_only(base_form(text)).split()
        tokens = tuple(squeeze(t) for t in raw_tokens)
        if not tokens:
            return None
        joined = "".join(tokens)
        content = [t for t in raw_tokens if t not in _FUNCTION_WORDS] or raw_tokens
        ranks = [self.vocabulary.rank(t) for t in content]
        settings = self.settings
        if len(content) == 1:
            common = ranks[0] is not None and ranks[0] < settings.single_word_common_rank
        else:
            common = all(r is not None and r < settings.phrase_common_rank for r in ranks)
        very_common = (
            len(content) == 1 and ranks[0] is not None and (ranks[0] < settings.very_common_rank)
        )
        # Names made of everyday words need corroboration. Listed misspellings never do: they
        # are not everyday words, or the rights holder chose them deliberately.
        ambiguous = kind is TermKind.IMPLICIT or (
            kind is TermKind.NAME and (common or len(joined) <= 3)
        )
        return _Term(
            optout_id,
            text,
            kind,
            tokens,
            tuple(raw_tokens),
            joined,
            ambiguous,
            very_common or len(joined) <= 3,
        )

    def match(
        self,
        prompt: NormalisedPrompt,
        *,
        territory: str | None = None,
        by_meaning: bool = True,
    ) -> PromptMatchResult:
        """``by_meaning=False`` skips the semantic match (the embedder cannot read the
        prompt's script); names and aliases still match."""
        applicable = {
            oid for oid, c in self._optouts.items() if applies_in(c.territories, territory)
        }
        lexical: list[OptOutPromptMatch] = []
        ambiguous_hits: list[tuple[_Term, OptOutPromptMatch, _Usage]] = []
        views = _word_views(prompt)
        for view_name, raw, words in views:
            for start, end, window in _windows(words, self._max_words):
                for term in self._exact_terms(window):
                    if term.optout_id not in applicable:
                        continue
                    hit = OptOutPromptMatch(
                        term.optout_id,
                        MatchMethod.ALIAS,
                        1.0,
                        term.text,
                        view_name,
                        " ".join(raw[start:end]),
                    )
                    usage = _usage(
                        raw[start - 1] if start else "", raw[end] if end < len(raw) else ""
                    )
                    if term.ambiguous:
                        ambiguous_hits.append((term, hit, usage))
                    elif usage is _Usage.NAMED and len(term.tokens) == 1:
                        # "a woman named Elsa": a person's or pet's name, unless corroborated.
                        ambiguous_hits.append((term, hit, usage))
                    else:
                        lexical.append(hit)
        for run in prompt.joined_runs:
            # A spaced-out name often swallows its neighbours ("a s o n i c" -> "asonic"), so
            # distinctive names are looked for inside glued runs, not only as whole words.
            squeezed_run = squeeze(run)
            for joined, terms in self._by_joined.items():
                if len(joined) >= self.settings.min_fuzzy_length and joined in squeezed_run:
                    for term in terms:
                        if term.optout_id in applicable and not term.ambiguous:
                            lexical.append(
                                OptOutPromptMatch(
                                    term.optout_id, MatchMethod.ALIAS, 1.0, term.text, "joined", run
                                )
                            )
        for native in self._native.find(prompt.native):
            if native.owner in applicable:
                lexical.append(
                    OptOutPromptMatch(
                        native.owner, MatchMethod.ALIAS, 1.0, native.name, "native", native.span
                    )
                )
        for term, hit, usage in self._fuzzy(views, applicable):
            if term.ambiguous:
                ambiguous_hits.append((term, hit, usage))
            else:
                lexical.append(hit)

        semantic: list[OptOutPromptMatch] = []
        description_scores: dict[str, float] = {}
        if (
            by_meaning
            and self._semantic_matrix is not None
            and self.embedder is not None
            and applicable
        ):
            vectors = np.asarray(self.embedder.embed(list(prompt.distinct_views())))
            sims = (vectors @ self._semantic_matrix.T).max(axis=0)
            anchor = (
                float((vectors @ self._anchor_matrix.T).max())
                if self._anchor_matrix is not None
                else 0.0
            )
            for optout_id in applicable:
                compiled = self._optouts[optout_id]
                if not compiled.description_rows:
                    continue
                rows = compiled.description_rows
                best = int(np.argmax(sims[rows]))
                similarity = float(sims[rows][best])
                # A prompt nearer a generic subject ("a dragon") than to the description is
                # about the generic subject; the discount grows with that lead.
                score = similarity - self.settings.anchor_contrast * max(0.0, anchor - similarity)
                description_scores[optout_id] = score
                if score >= self.settings.semantic_threshold:
                    semantic.append(
                        OptOutPromptMatch(
                            optout_id,
                            MatchMethod.SEMANTIC,
                            score,
                            f"description[{best}]",
                            "base",
                            prompt.base,
                        )
                    )

        matches = list(lexical) + semantic
        matched_ids = {m.optout_id for m in lexical}
        uncorroborated: list[OptOutPromptMatch] = []
        for term, hit, usage in ambiguous_hits:
            other_names = {
                t.joined
                for t, _, _ in ambiguous_hits
                if t.optout_id == term.optout_id and t.joined != term.joined
            }
            corroborated = (
                term.optout_id in matched_ids
                or bool(other_names)
                or description_scores.get(term.optout_id, 0.0)
                >= self.settings.corroboration_threshold
                or (
                    usage is not _Usage.NAMED
                    and _capitalised_mid_sentence(prompt.original, term.raw_tokens)
                )
                or (usage is _Usage.BARE and not term.very_common)
            )
            (matches if corroborated else uncorroborated).append(hit)
        matches.sort(key=lambda m: (-m.score, m.optout_id, m.method))
        return PromptMatchResult(tuple(_dedupe(matches)), tuple(_dedupe(uncorroborated)))

    def _exact_terms(self, window: tuple[str, ...]) -> list[_Term]:
        joined = "".join(window)
        found = list(self._by_joined.get(joined, ()))
        if not found and len(joined) > 4 and joined.endswith("s"):
            # Plurals: "minions" for "minion", "batmans"; not for short words ("bus").
            stem = joined[:-2] if joined.endswith("es") else joined[:-1]
            found = [t for t in self._by_joined.get(stem, ()) if not t.ambiguous]
            if joined.endswith("es"):
                found += [t for t in self._by_joined.get(joined[:-1], ()) if not t.ambiguous]
        return found

    def _fuzzy(
        self, views: Sequence[tuple[str, list[str], list[str]]], applicable: set[str]
    ) -> list[tuple[_Term, OptOutPromptMatch, _Usage]]:
        if not self._fuzzy_terms:
            return []
        candidates: dict[str, tuple[str, str, _Usage]] = {}
        for view_name, raw, words in views:
            for start, end, window in _windows(words, self._max_words):
                joined = "".join(window)
                if len(joined) < self.settings.min_fuzzy_length or joined in candidates:
                    continue
                # A run of everyday words is prose, not a misspelt name ("maria" is not
                # "mario"); a rare word may be one ("mikey mouse"). A window that starts or
                # ends on "a", "on", "the"... only borrows letters ("sponge on" ~ "spongebob").
                span_words = raw[start:end]
                if all(self._everyday(w) for w in span_words) or (
                    span_words[0] in _FUNCTION_WORDS or span_words[-1] in _FUNCTION_WORDS
                ):
                    continue
                usage = _usage(raw[start - 1] if start else "", raw[end] if end < len(raw) else "")
                candidates[joined] = (view_name, " ".join(raw[start:end]), usage)
        if not candidates:
            return []
        max_edits = max(e for _, e in self.settings.fuzzy_budget)
        keys = list(candidates)
        distances = cdist(
            keys,
            self._fuzzy_joined,
            scorer=OSA.distance,
            score_cutoff=max_edits,
            dtype=np.int32,
        )
        out: list[tuple[_Term, OptOutPromptMatch, _Usage]] = []
        rows, cols = np.nonzero(distances <= max_edits)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            candidate, term = keys[row], self._fuzzy_terms[col]
            distance = int(distances[row, col])
            if distance == 0 or term.optout_id not in applicable:
                continue  # distance 0 is an alias hit, already recorded
            if distance > self.settings.edits_allowed(len(term.joined)):
                continue
            if candidate[0] != term.joined[0]:
                continue
            view_name, span, usage = candidates[candidate]
            score = 1.0 - distance / max(len(term.joined), len(candidate))
            hit = OptOutPromptMatch(
                term.optout_id, MatchMethod.FUZZY, score, term.text, view_name, span
            )
            out.append((term, hit, usage))
        return out

    def _everyday(self, word: str) -> bool:
        rank = self.vocabulary.rank(word)
        return word in _FUNCTION_WORDS or (
            rank is not None and rank < self.settings.single_word_common_rank
        )


# Shared by the two lists below: a possessive both sits inside names ("my little pony") and,
# like a determiner, marks the next word as a common noun.
_POSSESSIVES = frozenset(["my", "your", "his", "her", "its", "our", "their"])
# Short words that may sit inside a name ("the lion king", "beauty and the beast") and say
# nothing about whether the name is an everyday phrase.
_FUNCTION_WORDS = (
    frozenset(
        ["a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "from", "with", "by"]
    )
    | _POSSESSIVES
)


_DETERMINERS = (
    frozenset(
        [
            "a",
            "an",
            "the",
            "this",
            "that",
            "these",
            "those",
            "some",
            "any",
            "every",
            "each",
            "no",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "many",
            "several",
            "few",
            "little",
            "big",
            "old",
            "young",
        ]
    )
    | _POSSESSIVES
)
_NAMING = frozenset({"named", "called", "nicknamed"})
# Adjectives that, like a determiner, mark the next word as a common noun ("a blue hedgehog").
_MODIFIERS = frozenset(
    [
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "pink",
        "brown",
        "black",
        "white",
        "grey",
        "gray",
        "golden",
        "silver",
        "small",
        "tiny",
        "little",
        "big",
        "large",
        "huge",
        "giant",
        "cute",
        "fluffy",
        "wild",
        "baby",
    ]
)


class _Usage(StrEnum):
    BARE = "bare"  # stands alone, as names do: "Donkey and Shrek"
    MODIFIED = "modified"  # after a determiner or adjective, as common nouns do: "a donkey"
    NAMED = "named"  # after "named"/"called": somebody's own name


def _usage(previous_word: str, next_word: str) -> _Usage:
    if previous_word in _NAMING:
        return _Usage.NAMED
    # "tails of comets", "a donkey": a common noun, not a character's name.
    if previous_word in _DETERMINERS or previous_word in _MODIFIERS or next_word == "of":
        return _Usage.MODIFIED
    return _Usage.BARE


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"“(])\s*$")


def _capitalised_mid_sentence(original: str, raw_tokens: Sequence[str]) -> bool:
    """Is the name written with a capital where a sentence does not start ("with Tails")?"""
    pattern = re.compile(
        r"(?<![\w])" + r"[\s\-]*".join(re.escape(t) for t in raw_tokens) + r"(?![\w])",
        re.IGNORECASE,
    )
    for found in pattern.finditer(original):
        if found.group(0)[0].isupper() and not _SENTENCE_START.search(original[: found.start()]):
            return True
    return False


def default_anchors() -> list[str]:
    text = resources.files("trust_safety.optout.data").joinpath("generic_anchors.json")
    return list(json.loads(text.read_text("utf-8"))["anchors"])


def _word_views(prompt: NormalisedPrompt) -> list[tuple[str, list[str], list[str]]]:
    """Per distinct view: its words as written (for the vocabulary) and squeezed (to match)."""
    seen: set[str] = set()
    out: list[tuple[str, list[str], list[str]]] = []
    for name, text in prompt.views.items():
        words = words_only(text)
        if words in seen:
            continue
        seen.add(words)
        raw = words.split()
        out.append((name, raw, [squeeze(w) for w in raw]))
    return out


def _windows(words: list[str], max_words: int) -> Iterable[tuple[int, int, tuple[str, ...]]]:
    for start in range(len(words)):
        for end in range(start + 1, min(len(words), start + max_words) + 1):
            yield start, end, tuple(words[start:end])


def _dedupe(matches: Iterable[OptOutPromptMatch]) -> list[OptOutPromptMatch]:
    seen: set[tuple[str, MatchMethod, str]] = set()
    out: list[OptOutPromptMatch] = []
    for match in matches:
        key = (match.optout_id, match.method, match.matched)
        if key not in seen:
            seen.add(key)
            out.append(match)
    return out
