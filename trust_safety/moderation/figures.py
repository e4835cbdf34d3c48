"""Public figures: a curated, admin-editable list with aliases, matched exactly and fuzzily.

A depiction is refused unless the requester holds consent for that figure (their own verified
cameo, or a grant from the figure's cameo); the stage asks the ``LikenessConsent`` callable in
the context and records both the match and the consent answer as evidence.

A figure named only by the office they hold ("the Pope", "el presidente de Estados Unidos")
is resolved through the dated office table (``offices.py``) to the holder on the day of the
request (``ModerationContext.at``) and treated exactly as if named: the same consent question,
the same score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from trust_safety.moderation.categories import Category
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import (
    InvalidBlocklistEdit,
    InvalidModerationData,
    StaleListVersion,
)
from trust_safety.moderation.lexicon import canonical_term
from trust_safety.moderation.native_names import (
    NativeNameMatcher,
    is_native_name,
    native_pattern,
)
from trust_safety.moderation.normalise import NormalisedPrompt, squeeze, words_only
from trust_safety.moderation.offices import (
    OfficeMatcher,
    OfficeTable,
    day_of,
    load_default_offices,
)
from trust_safety.moderation.stages import Evidence, ModerationContext, StageResult

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
# Fuzzy matching only for aliases long enough that a near miss is still a name, not a word.
FUZZY_MIN_CHARS = 8
# Edits allowed per word of an alias, by word length (optimal string alignment distance, so a
# swapped pair of letters is one edit). Short words must match exactly.
FUZZY_WORD_BUDGET: tuple[tuple[int, int], ...] = ((9, 2), (4, 1))


def _word_budget(length: int) -> int:
    for min_length, edits in FUZZY_WORD_BUDGET:
        if length >= min_length:
            return edits
    return 0


def _fuzzy_similarity(alias_words: list[str], window: list[str]) -> float | None:
    """Every word within its edit budget and starting with the same letter; None otherwise."""
    total_edits = 0
    for expected, seen in zip(alias_words, window, strict=True):
        if expected[0] != seen[0]:
            return None
        edits = OSA.distance(expected, seen, score_cutoff=_word_budget(len(expected)))
        if edits > _word_budget(len(expected)):
            return None
        total_edits += edits
    length = sum(len(w) for w in alias_words)
    return 1.0 - total_edits / length


@dataclass(frozen=True, slots=True)
class PublicFigure:
    figure_id: str
    name: str
    aliases: tuple[str, ...] = ()
    # Phrases in which an alias means something else ("trump card").
    exclusions: tuple[str, ...] = ()

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.figure_id,
            "name": self.name,
            "aliases": list(self.aliases),
            "exclusions": list(self.exclusions),
        }


def parse_figure(raw: Mapping[str, Any]) -> PublicFigure:
    try:
        figure_id = str(raw["id"])
        name = str(raw["name"])
    except KeyError as exc:
        raise InvalidModerationData(
            f"a public figure needs 'id' and 'name': missing {exc}"
        ) from exc
    if not _ID.match(figure_id):
        raise InvalidModerationData(f"figure id {figure_id!r} must match {_ID.pattern}")
    aliases = tuple(str(a) for a in raw.get("aliases", ()))
    exclusions = tuple(str(e) for e in raw.get("exclusions", ()))
    for label in (name, *aliases):
        if is_native_name(label):
            if native_pattern(label) is None:
                raise InvalidModerationData(
                    f"alias {label!r} of {figure_id} is too short to match safely"
                )
        elif len(canonical_term(label).replace(" ", "")) < 3:
            raise InvalidModerationData(
                f"alias {label!r} of {figure_id} is too short to match safely"
            )
    return PublicFigure(figure_id, name, aliases, exclusions)


@dataclass(frozen=True)
class PublicFigureList:
    version: int
    figures: tuple[PublicFigure, ...]
    _by_id: dict[str, PublicFigure] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, PublicFigure] = {}
        for figure in self.figures:
            if figure.figure_id in by_id:
                raise InvalidModerationData(f"duplicate public figure id {figure.figure_id}")
            by_id[figure.figure_id] = figure
        object.__setattr__(self, "_by_id", by_id)

    def get(self, figure_id: str) -> PublicFigure | None:
        return self._by_id.get(figure_id)

    def _check(self, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise StaleListVersion(
                f"the public figure list is at version {self.version}, the edit expected {expected_version}"
            )

    def with_figure(
        self, figure: PublicFigure, *, expected_version: int | None = None
    ) -> PublicFigureList:
        """Add or replace (by id) one figure."""
        self._check(expected_version)
        parse_figure(figure.to_json())  # same validation as shipped data
        kept = tuple(f for f in self.figures if f.figure_id != figure.figure_id)
        return PublicFigureList(self.version + 1, (*kept, figure))

    def without_figure(
        self, figure_id: str, *, expected_version: int | None = None
    ) -> PublicFigureList:
        self._check(expected_version)
        if figure_id not in self._by_id:
            raise InvalidBlocklistEdit(f"no public figure with id {figure_id!r}")
        return PublicFigureList(
            self.version + 1, tuple(f for f in self.figures if f.figure_id != figure_id)
        )

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "figures": [f.to_json() for f in self.figures]}


def figures_from_json(data: Mapping[str, Any]) -> PublicFigureList:
    try:
        version = int(data["version"])
        raw_figures: Sequence[Mapping[str, Any]] = data["figures"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModerationData(f"figure data needs 'version' and 'figures': {exc}") from exc
    return PublicFigureList(version, tuple(parse_figure(r) for r in raw_figures))


def load_default_figures() -> PublicFigureList:
    return figures_from_json(shipped_json("public_figures.json"))


@dataclass(frozen=True, slots=True)
class FigureMatch:
    figure_id: str
    alias: str
    score: float
    view: str
    fuzzy: bool


class FigureMatcher:
    """Exact alias matching in squeezed word space, then per-word fuzzy matching of windows,
    then aliases hidden in glued letter runs ("b a r a c k o b a m a")."""

    def __init__(self, figures: PublicFigureList) -> None:
        self.figures = figures
        self._exact: list[tuple[re.Pattern[str], str, str]] = []
        # Fuzzy candidates by (words in the alias, first letter): a fuzzy match keeps the first
        # letter, so a window is compared only with aliases that start as it does.
        self._fuzzy_by_len: dict[tuple[int, str], list[tuple[list[str], str, str]]] = {}
        self._glued: list[tuple[str, str, str]] = []
        self._exclusions: dict[str, tuple[str, ...]] = {}
        # Names written in other scripts are matched in the text as written (native_names.py).
        self._native = NativeNameMatcher(
            (f.figure_id, label) for f in figures.figures for label in f.all_names()
        )
        for figure in figures.figures:
            self._exclusions[figure.figure_id] = tuple(canonical_term(e) for e in figure.exclusions)
            for label in figure.all_names():
                if is_native_name(label):
                    continue
                canon = canonical_term(label)
                pattern = re.compile(rf"(?<![a-z0-9]){re.escape(canon)}(?:s)?(?![a-z0-9])")
                self._exact.append((pattern, figure.figure_id, canon))
                glued = canon.replace(" ", "")
                if len(glued) >= FUZZY_MIN_CHARS:
                    words = canon.split()
                    self._fuzzy_by_len.setdefault((len(words), words[0][0]), []).append(
                        (words, figure.figure_id, canon)
                    )
                    self._glued.append((glued, figure.figure_id, canon))

    def match(self, prompt: NormalisedPrompt) -> list[FigureMatch]:
        found: dict[str, FigureMatch] = {}
        for view_name, text in prompt.views.items():
            squeezed = squeeze(words_only(text))
            for pattern, figure_id, alias in self._exact:
                if figure_id in found and not found[figure_id].fuzzy:
                    continue
                cleaned = squeezed
                for excluded in self._exclusions[figure_id]:
                    cleaned = cleaned.replace(excluded, " ")
                if pattern.search(cleaned):
                    found[figure_id] = FigureMatch(figure_id, alias, 1.0, view_name, fuzzy=False)
            words = squeezed.split()
            for n_words in {n for n, _ in self._fuzzy_by_len}:
                for start in range(len(words) - n_words + 1):
                    window = words[start : start + n_words]
                    for alias_words, figure_id, alias in self._fuzzy_by_len.get(
                        (n_words, window[0][0]), ()
                    ):
                        if figure_id in found:
                            continue
                        similarity = _fuzzy_similarity(alias_words, window)
                        if similarity is not None:
                            found[figure_id] = FigureMatch(
                                figure_id, alias, similarity, view_name, fuzzy=True
                            )
        for run in prompt.joined_runs:
            squeezed_run = squeeze(run)
            for glued, figure_id, alias in self._glued:
                if figure_id not in found and glued in squeezed_run:
                    found[figure_id] = FigureMatch(figure_id, alias, 1.0, "joined_run", fuzzy=False)
        for hit in self._native.find(prompt.native):
            if hit.owner not in found or found[hit.owner].fuzzy:
                found[hit.owner] = FigureMatch(hit.owner, hit.name, 1.0, "native", fuzzy=False)
        return list(found.values())


class PublicFigureStage:
    name = "public_figures"
    version = "2"

    def __init__(self, figures: PublicFigureList, offices: OfficeTable | None = None) -> None:
        self._matcher = FigureMatcher(figures)
        # None: no office table, titles resolve to no one (and no version is recorded).
        self._offices = OfficeMatcher(offices) if offices is not None else None

    @classmethod
    def with_offices(
        cls, figures: PublicFigureList, offices: OfficeTable | None = None
    ) -> PublicFigureStage:
        """The stage over ``figures`` and an office table (default: the shipped one)."""
        if offices is None:
            offices = load_default_offices([f.figure_id for f in figures.figures])
        return cls(figures, offices)

    @property
    def figures(self) -> PublicFigureList:
        return self._matcher.figures

    @property
    def offices(self) -> OfficeTable | None:
        return self._offices.table if self._offices is not None else None

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        evidence: list[Evidence] = []
        unconsented = 0.0
        # (figure id, score, view, how it matched) — a name first, then a title naming the
        # holder of an office, never twice for one figure.
        matches: list[tuple[str, float, str, str]] = [
            (m.figure_id, m.score, m.view, "fuzzy" if m.fuzzy else "alias")
            for m in self._matcher.match(prompt)
        ]
        named = {figure_id for figure_id, *_ in matches}
        if self._offices is not None:
            for office in self._offices.match(prompt, day_of(context.at)):
                by_title = f"by title: {office.office_id} (holder since {office.since.isoformat()})"
                # What the prompt said and which office it named, for reviewers, whether or not
                # consent clears the holder.
                evidence.append(
                    Evidence(
                        Category.PUBLIC_FIGURES,
                        "office_title",
                        f"office:{office.office_id}",
                        0.0,
                        view=office.view,
                        detail=f"{office.language}:{office.title} -> {office.figure_id}",
                    )
                )
                if office.figure_id not in named:
                    named.add(office.figure_id)
                    matches.append((office.figure_id, 1.0, office.view, by_title))
        for figure_id, score, view, how in matches:
            consented = bool(
                context.requester_id is not None
                and context.likeness_consent is not None
                and context.likeness_consent(context.requester_id, figure_id)
            )
            evidence.append(
                Evidence(
                    Category.PUBLIC_FIGURES,
                    "public_figure",
                    figure_id,
                    score,
                    view=view,
                    detail="consent on record" if consented else how,
                )
            )
            if not consented:
                # A fuzzy match already passed its per-word edit budget; its similarity is
                # evidence for reviewers, not a discount on the refusal.
                unconsented = 1.0
        scores = {Category.PUBLIC_FIGURES: unconsented} if unconsented else {}
        versions = {"public_figures": str(self._matcher.figures.version)}
        if self._offices is not None:
            versions["public_offices"] = str(self._offices.table.version)
        return StageResult(
            stage=self.name,
            version=self.version,
            scores=scores,
            evidence=tuple(evidence),
            data_versions=versions,
        )
