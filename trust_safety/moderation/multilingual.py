"""Moderation of prompts that are not in English.

Three stages, all silent on English prompts (the English stages are measured and tuned on
their own):

- ``semantic_multilingual``: the semantic stage over a multilingual sentence encoder
  (multilingual-e5-small). Its exemplars are the English ones plus translations of a sample
  of them per language (``data/exemplars_i18n.json``): in a shared space an English exemplar
  already lands near its translation, and the translations teach the probe that language is
  not a signal. The prompt is read in its native form, diacritics and scripts intact.
- ``gloss_en``: the English blocklist and MiniLM semantic stage over a word-by-word English
  gloss of the prompt (``data/glossaries.json``), a second reader beside the encoder.
- ``terms_i18n``: per-language term lists (``data/terms_i18n.json``), the counterpart of the
  English blocklist: strong terms refuse outright, weak terms raise the same
  ``weak_term:<category>`` signal, and each language's negation cues keep "sin sangre" from
  counting as blood. Scripts written without spaces (Chinese, Japanese) and Korean, whose
  particles attach to the word, match terms inside words; the others match whole words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.once import once
from trust_safety.classifiers.text_embedding import TextEmbedder
from trust_safety.moderation.categories import Category, parse_category
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import InvalidModerationData
from trust_safety.moderation.language import UNDETERMINED
from trust_safety.moderation.normalise import NormalisedPrompt, native_form, normalise
from trust_safety.moderation.policy import MINOR_SIGNAL, WEAK_SIGNAL_PREFIX
from trust_safety.moderation.semantic import BENIGN, ExemplarSet, SemanticStage
from trust_safety.moderation.stages import Evidence, ModerationContext, PromptStage, StageResult

# Languages whose words the term lists match inside longer words (no spaces, or particles
# glued to the noun), and those whose negation follows the word it negates ("血なし").
_INFIX_LANGUAGES = frozenset({"zh", "ja", "ko"})
_UNSPACED = frozenset({"zh", "ja"})
_NEGATION_AFTER = frozenset({"ja", "ko"})
_SCOPE_WORDS = 3
_SCOPE_CHARS = 6


def _silent(context: ModerationContext) -> bool:
    return context.language in (None, "en", UNDETERMINED)


def merged_exemplars(english: ExemplarSet, translated: Mapping[str, Any]) -> ExemplarSet:
    """English exemplars with every language's translations appended under the same label."""
    try:
        version = int(translated["version"])
        languages = translated["languages"]
        merged: dict[str, list[str]] = {k: list(v) for k, v in english.exemplars.items()}
        for lang, labels in sorted(languages.items()):
            for label, texts in labels.items():
                if label != BENIGN:
                    parse_category(label)
                if not isinstance(texts, list) or not all(
                    isinstance(t, str) and t.strip() for t in texts
                ):
                    raise InvalidModerationData(
                        f"translated exemplars for {lang}/{label} must be non-empty strings"
                    )
                merged.setdefault(label, []).extend(texts)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidModerationData(f"translated exemplar data is malformed: {exc}") from exc
    return ExemplarSet(english.version * 1000 + version, {k: tuple(v) for k, v in merged.items()})


def load_default_multilingual_exemplars(english: ExemplarSet) -> ExemplarSet:
    return merged_exemplars(english, shipped_json("exemplars_i18n.json"))


def words(text: str) -> list[str]:
    """Whitespace-separated tokens with punctuation trimmed off their ends.

    Not ``\\w+``: Python counts the vowel signs of Devanagari and other Indic scripts as
    non-word characters, and would cut "पार्क" into three pieces.
    """
    out = []
    for token in text.split():
        start, end = 0, len(token)
        while start < end and unicodedata.category(token[start])[0] in "PS":
            start += 1
        while end > start and unicodedata.category(token[end - 1])[0] in "PS":
            end -= 1
        if start < end:
            out.append(token[start:end])
    return out


# Longest ending a word may carry past a glossary entry in a spaced script, for inflections
# the glossary does not list: three letters cover plurals and most case endings.
_MAX_SUFFIX = 3


@dataclass(frozen=True)
class Glossary:
    """Word -> English, read into a word-by-word English gloss of a prompt.

    Scripts without spaces (Chinese, Japanese) are segmented by longest match; in the others
    a word is looked up whole, else by its longest listed prefix within ``_MAX_SUFFIX``
    letters of the whole word.
    """

    language: str
    entries: Mapping[str, str]
    version: int = 1
    longest: int = field(init=False, default=1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "longest", max((len(k) for k in self.entries), default=1))

    def gloss(self, text: str) -> str:
        out: list[str] = []
        for token in words(text):
            out.extend(self._segment(token) if self.language in _UNSPACED else self._word(token))
        return " ".join(w for w in out if w)

    def _word(self, token: str) -> list[str]:
        if token in self.entries:
            return [self.entries[token]]
        for cut in range(1, min(_MAX_SUFFIX, len(token) - 2) + 1):
            stem = token[:-cut]
            if stem in self.entries:
                return [self.entries[stem]]
        return []

    def _segment(self, token: str) -> list[str]:
        out: list[str] = []
        i = 0
        longest = self.longest
        while i < len(token):
            for size in range(min(longest, len(token) - i), 0, -1):
                piece = token[i : i + size]
                if piece in self.entries:
                    out.append(self.entries[piece])
                    i += size
                    break
            else:
                i += 1
        return out


# The multilingual stage's probe strength and centring, chosen on the dev prompts with the
# e5 encoder (docs/moderation.md, "Other languages").
MULTILINGUAL_PROBE_C = 10.0


class MultilingualSemanticStage(SemanticStage):
    name = "semantic_multilingual"
    version = "2"
    # Nearly all of it is e5's C engine, which releases the GIL: it reads the prompt beside
    # the MiniLM passes (docs/moderation.md has the measurements).
    concurrent = True

    def __init__(
        self, embedder: TextEmbedder, exemplars: ExemplarSet, *, cache_dir: Path | None = None
    ) -> None:
        super().__init__(
            embedder, exemplars, cache_dir=cache_dir, probe_c=MULTILINGUAL_PROBE_C, center=True
        )

    @staticmethod
    def exemplar_form(text: str) -> str:
        return native_form(text)

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        if _silent(context):
            return StageResult(stage=self.name, version=self.stage_version)
        scores, refs, _ = self.scores_for_views([prompt.native])
        evidence = tuple(
            Evidence(category, "exemplar", refs[category], score, view="native")
            for category, score in scores.items()
        )
        return StageResult(
            stage=self.name,
            version=self.stage_version,
            scores=scores,
            evidence=evidence,
            data_versions={"exemplars_multilingual": str(self.exemplars.version)},
        )


@dataclass(frozen=True)
class LanguageTerms:
    strong: Mapping[Category, frozenset[str]]
    weak: Mapping[Category, frozenset[str]]
    negation: frozenset[str]
    allow: frozenset[str]
    # Words that refer to a child ("niña", "подросток"): they raise the policy's
    # minor_reference signal, as the English minors stage does, and refuse nothing alone.
    minor_reference: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TermLists:
    version: int
    languages: Mapping[str, LanguageTerms]


def _terms(raw: Any, where: str) -> dict[Category, frozenset[str]]:
    if not isinstance(raw, dict):
        raise InvalidModerationData(f"{where} must map categories to term lists")
    out: dict[Category, frozenset[str]] = {}
    for label, terms in raw.items():
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            raise InvalidModerationData(f"{where}/{label} must be a list of non-empty strings")
        out[parse_category(label)] = frozenset(native_form(t) for t in terms)
    return out


def term_lists_from_json(data: Mapping[str, Any]) -> TermLists:
    try:
        version = int(data["version"])
        raw_languages = data["languages"]
        languages = {
            str(lang): LanguageTerms(
                strong=_terms(spec.get("lists", {}), f"{lang}/lists"),
                weak=_terms(spec.get("weak", {}), f"{lang}/weak"),
                negation=frozenset(native_form(c) for c in spec.get("negation", [])),
                allow=frozenset(native_form(a) for a in spec.get("allow", [])),
                minor_reference=frozenset(native_form(m) for m in spec.get("minor_reference", [])),
            )
            for lang, spec in raw_languages.items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidModerationData(f"term list data is malformed: {exc}") from exc
    return TermLists(version, languages)


def load_default_term_lists() -> TermLists:
    return term_lists_from_json(shipped_json("terms_i18n.json"))


def glossaries_from_json(data: Mapping[str, Any]) -> dict[str, Glossary]:
    try:
        return {
            str(lang): Glossary(
                str(lang),
                {native_form(k): str(v) for k, v in entries.items()},
                int(data["version"]),
            )
            for lang, entries in data["languages"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidModerationData(f"glossary data is malformed: {exc}") from exc


@once
def load_default_glossaries() -> dict[str, Glossary]:
    """Parsed once per process: the shipped glossaries hold some 134,000 entries."""
    return glossaries_from_json(shipped_json("glossaries.json"))


def default_gloss_stage(blocklist: PromptStage, semantic: PromptStage) -> GlossStage:
    allow = {lang: spec.allow for lang, spec in load_default_term_lists().languages.items()}
    return GlossStage(load_default_glossaries(), [semantic], signal_stages=[blocklist], allow=allow)


class GlossStage:
    """The English semantic stage over a word-by-word English gloss of a prompt in another
    language.

    MiniLM's probe is the gate's best-measured reader; a gloss ("woman naked sex explicit
    bed") is broken English, but its harm words are English words. The English lists read the
    gloss for their weak terms only (``signal_stages``): a gloss word is one sense of the
    original picked without context ("nude" the colour, "shirtless" as "naked chest"), so it
    may add to a score but never refuse alone. The language's own strong terms are
    ``terms_i18n``'s, curated in that language.

    The language's harmless idioms (``terms_i18n``'s allow lists: "prevención del suicidio",
    "a ojo desnudo") are blanked before glossing. Glossed word by word they lose the order
    and the context the English allow list knows them by ("prevention of suicide"), and the
    bare harm word would be read alone.
    """

    name = "gloss_en"
    version = "2"

    def __init__(
        self,
        glossaries: Mapping[str, Glossary],
        english: Sequence[PromptStage],
        signal_stages: Sequence[PromptStage] = (),
        allow: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.glossaries = dict(glossaries)
        self.allow = dict(allow or {})
        self.english = tuple(english)
        self.signal_stages = tuple(signal_stages)

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        lang = str(context.language)
        glossary = self.glossaries.get(lang)
        gloss = ""
        if glossary is not None and not _silent(context):
            gloss = glossary.gloss(blank_idioms(prompt.native, self.allow.get(lang, frozenset())))
        if not gloss:
            return StageResult(stage=self.name, version=self.version)
        glossed = normalise(gloss)
        english_context = replace(context, language="en")
        scores: dict[Category, float] = {}
        signals: dict[str, float] = {}
        evidence: list[Evidence] = []
        versions: dict[str, str] = {"glossaries": str(glossary.version) if glossary else ""}
        for stage in self.english:
            result = stage.evaluate(glossed, english_context)
            for category, score in result.scores.items():
                scores[category] = max(scores.get(category, 0.0), float(score))
            signals.update(result.signals)
            evidence += [
                Evidence(e.category, e.kind, e.ref, e.score, view=f"gloss:{e.view or 'base'}")
                for e in result.evidence
            ]
            versions.update(result.data_versions)
        for stage in self.signal_stages:
            result = stage.evaluate(glossed, english_context)
            signals.update(result.signals)
            evidence += [
                Evidence(e.category, e.kind, e.ref, 0.0, view=f"gloss:{e.view or 'base'}")
                for e in result.evidence
                if e.kind == "weak_term"
            ]
            versions.update(result.data_versions)
        return StageResult(
            stage=self.name,
            version=self.version,
            scores=scores,
            evidence=tuple(evidence),
            signals=signals,
            data_versions=versions,
        )


@lru_cache(maxsize=64)
def _longest_first(idioms: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(idioms, key=lambda i: (-len(i), i)))


def blank_idioms(text: str, idioms: frozenset[str]) -> str:
    """``text`` with every allowed idiom replaced by as many spaces (offsets are kept).
    Longest first, so that an idiom inside a longer one is blanked with it."""
    for idiom in _longest_first(idioms):
        text = text.replace(idiom, " " * len(idiom))
    return text


@lru_cache(maxsize=1024)
def _terms_pattern(terms: frozenset[str], infix: bool) -> re.Pattern[str]:
    """Every term of one list in one pattern. A lookahead finds a match at each position, so
    overlapping terms ("desnuda", "mujer desnuda") are all found in one pass."""
    body = "|".join(re.escape(t) for t in sorted(terms, key=lambda t: (-len(t), t)))
    return re.compile(rf"(?=({body}))" if infix else rf"(?<!\w)(?=({body})(?!\w))")


def _negated(text: str, start: int, end: int, cues: frozenset[str], language: str) -> bool:
    """Is the match at [start, end) inside a negation's scope?"""
    if not cues:
        return False
    if language in _INFIX_LANGUAGES:
        before = text[max(0, start - _SCOPE_CHARS) : start]
        after = text[end : end + _SCOPE_CHARS]
        if language in _NEGATION_AFTER and any(after.lstrip().startswith(c) for c in cues):
            return True
        return any(c in before for c in cues)
    preceding = " ".join(words(text[:start])[-(_SCOPE_WORDS + 1) :])
    return any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", preceding) is not None for c in cues)


class LocalTermStage:
    name = "terms_i18n"
    version = "1"

    def __init__(self, lists: TermLists) -> None:
        self.lists = lists

    def _hits(
        self, text: str, terms: Mapping[Category, frozenset[str]], spec: LanguageTerms, lang: str
    ) -> list[tuple[Category, str, bool]]:
        infix = lang in _INFIX_LANGUAGES
        masked = blank_idioms(text, spec.allow)
        hits = []
        for category, words in terms.items():
            if not words:
                continue
            spans: dict[str, list[bool]] = {}
            for match in _terms_pattern(words, infix).finditer(masked):
                term = match.group(1)
                start = match.start(1)
                negated = _negated(masked, start, start + len(term), spec.negation, lang)
                spans.setdefault(term, []).append(negated)
            hits += [(category, term, all(flags)) for term, flags in sorted(spans.items())]
        return hits

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        spec = self.lists.languages.get(str(context.language))
        if _silent(context) or spec is None:
            return StageResult(stage=self.name, version=self.version)
        lang = str(context.language)
        text = prompt.native
        scores: dict[Category, float] = {}
        signals: dict[str, float] = {}
        evidence: list[Evidence] = []
        for category, term, negated in self._hits(text, spec.strong, spec, lang):
            kind = "negated_term" if negated else "term"
            evidence.append(Evidence(category, kind, f"{lang}:{term}", 1.0, view="native"))
            if not negated:
                scores[category] = 1.0
        for category, term, negated in self._hits(text, spec.weak, spec, lang):
            if negated:
                continue
            key = f"{WEAK_SIGNAL_PREFIX}{category.value}"
            signals[key] = signals.get(key, 0.0) + 1.0  # distinct weak terms, as in English
            evidence.append(Evidence(category, "weak_term", f"{lang}:{term}", 0.0, view="native"))
        if spec.minor_reference:
            minors = {Category.MINORS: spec.minor_reference}
            for _, term, negated in self._hits(text, minors, spec, lang):
                if not negated:
                    signals[MINOR_SIGNAL] = 1.0
                    evidence.append(
                        Evidence(None, "minor_reference", f"{lang}:{term}", 1.0, view="native")
                    )
        return StageResult(
            stage=self.name,
            version=self.version,
            scores=scores,
            evidence=tuple(evidence),
            signals=signals,
            data_versions={"terms_i18n": str(self.lists.version)},
        )


_SHARED: dict[tuple[str, str], tuple[Any, ...]] = {}
_SHARED_LOCK = threading.Lock()


def default_multilingual_stages(
    embedder: TextEmbedder, english: ExemplarSet, *, cache_dir: Path | None
) -> tuple[Any, ...]:
    """The two stages over the shipped data, built once per process and encoder.

    They hold no live list (the term lists and translations ship with the code), and fitting
    the probe over two thousand exemplars takes a second or two: every service instance in a
    process shares one build.
    """
    key = (embedder.model_id, f"{english.version}")
    with _SHARED_LOCK:
        built = _SHARED.get(key)
        if built is None:
            built = (
                LocalTermStage(load_default_term_lists()),
                MultilingualSemanticStage(
                    embedder, load_default_multilingual_exemplars(english), cache_dir=cache_dir
                ),
            )
            _SHARED[key] = built
    return built
