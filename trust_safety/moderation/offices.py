"""Public offices: "the Pope", "the US president", "the King of England" resolved to the person
who holds the office at the moment of the request, from a dated table admins keep current.

A title names its office's holder exactly as a name names a figure, so the public-figure stage
treats a title match as a match of the holder (same consent seam, same score). What counts as
a title, and what does not:

- A title is a phrase that on its own designates one office ("the pope", "king of england",
  "potus", "el papa", "教皇"). Role words that designate no one in particular ("king",
  "president", "prime minister") are not titles, and an edit that tries to list one is refused
  (``GENERIC_TITLES``): "a king in a fairy tale" or "a chess king" never resolve to anyone.
- A title preceded or followed by one of its language's *qualifiers* means someone else: an
  indefinite or quantifier ("a pope costume party", "any US president", "un papa") is a role,
  not the holder; a time qualifier ("the former US president", "the first prime minister of
  India", "le président précédent") is another holder, and former holders are out of scope.
- A match inside a longer title of another office is that office's ("vice president of the
  united states" is not the president).
- Each office may list *exclusions*: phrases, in the prompt's native form (diacritics kept),
  blanked before matching, for the places where a title's words mean something else ("papá",
  the Spanish dad, folds to "papa"; "pope francis" is a former holder named).

Matching: Latin-script titles are matched like names, as whole phrases in squeezed word space
over the normalised views (so "p0pe" and "POTUS" meet); titles in other spaced scripts
(Cyrillic, Arabic, Devanagari) as whole words of the native text (an Arabic one also after a
one-letter proclitic: "والبابا"); Chinese, Japanese and Korean ones inside the native text with
spaces and punctuation removed ("미국 대통령" = "미국대통령").

Known limits, documented rather than guessed at: a title with a former holder's regnal name
after it ("the japanese emperor hirohito") or before it ("henry viii, king of england") still
resolves to the current holder unless an exclusion names it; that fails closed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal

from core.errors import NotFound
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import InvalidModerationData, StaleListVersion
from trust_safety.moderation.lexicon import canonical_term
from trust_safety.moderation.normalise import (
    NormalisedPrompt,
    native_form,
    normalise,
    squeeze,
    words_only,
)

OFFICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
LANGUAGE = re.compile(r"^[a-z]{2}$")
MAX_TITLE_CHARS = 80
MAX_TITLES_PER_LANGUAGE = 40

Script = Literal["latin", "spaced", "cjk"]

# Role words that designate no one: never a title on their own (checked in canonical form).
GENERIC_TITLES = frozenset(
    canonical_term(t)
    for t in (
        "king", "the king", "queen", "the queen", "president", "the president",
        "prime minister", "the prime minister", "pm", "chancellor", "the chancellor",
        "emperor", "the emperor", "prince", "princess", "monarch", "leader", "premier",
        "minister", "secretary general", "chairman", "dictator", "rey", "el rey", "roi",
        "le roi", "re", "il re", "rei", "o rei", "konig", "der konig", "presidente",
        "el presidente", "kanzler", "papa", "raja",
        "presiden", "perdana menteri",
    )
)  # fmt: skip

_CJK_RANGES = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xAC00, 0xD7AF),  # hangul syllables
    (0x1100, 0x11FF),
    (0x3130, 0x318F),
)
# One-letter Arabic proclitics (and, so, with, for, like) written onto the next word.
_ARABIC_PROCLITIC = "وفبلك"


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def script_of(text: str) -> Script:
    native = native_form(text)
    if any(_is_cjk(c) for c in native):
        return "cjk"
    if any(c.isalpha() and not unicodedata.name(c, "").startswith("LATIN") for c in native):
        return "spaced"
    return "latin"


def _native_words(text: str) -> str:
    """Native text with punctuation and symbols as single spaces; letters and their marks
    (Devanagari vowel signs, Arabic harakat) untouched."""
    kept = [" " if unicodedata.category(c)[0] in "PSZ" else c for c in native_form(text)]
    return " ".join("".join(kept).split())


def _cjk_form(text: str) -> str:
    return "".join(c for c in _native_words(text) if c != " ")


def title_key(title: str) -> str:
    """The form a title is compared in, by its script."""
    script = script_of(title)
    if script == "latin":
        return canonical_term(title)
    if script == "spaced":
        return _native_words(title)
    return _cjk_form(title)


def check_title(title: str) -> str:
    """A title's key, or InvalidModerationData when it cannot be matched safely."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidModerationData("a title must be a non-empty string")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidModerationData(f"a title is at most {MAX_TITLE_CHARS} characters")
    key = title_key(title)
    letters = sum(1 for c in key if c.isalpha() or unicodedata.category(c).startswith("M"))
    minimum = 2 if script_of(title) == "cjk" else 3
    if letters < minimum:
        raise InvalidModerationData(f"title {title!r} is too short to match safely")
    if script_of(title) == "latin" and key in GENERIC_TITLES:
        raise InvalidModerationData(
            f"title {title!r} designates no one in particular; name the office "
            "(e.g. 'king of spain', not 'king')"
        )
    return key


@dataclass(frozen=True, slots=True)
class Holder:
    figure_id: str
    start: date
    # Exclusive; None while the holder is in office.
    end: date | None = None

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def to_json(self) -> dict[str, Any]:
        return {
            "figure_id": self.figure_id,
            "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True, slots=True)
class Office:
    office_id: str
    name: str
    # language (ISO 639-1) -> titles as written
    titles: Mapping[str, tuple[str, ...]]
    holders: tuple[Holder, ...] = ()
    exclusions: tuple[str, ...] = ()

    def holder_on(self, day: date) -> Holder | None:
        for holder in self.holders:
            if holder.holds_on(day):
                return holder
        return None

    def with_holder(self, figure_id: str, start: date) -> Office:
        """``figure_id`` holds the office from ``start`` on: later entries are dropped (the
        edit is also how a wrong entry is corrected) and the holder before ends that day."""
        kept: list[Holder] = []
        for holder in self.holders:
            if holder.start >= start:
                continue
            if holder.end is None or holder.end > start:
                holder = replace(holder, end=start)
            kept.append(holder)
        return replace(self, holders=(*kept, Holder(figure_id, start)))

    def with_title(self, language: str, title: str) -> Office:
        current = self.titles.get(language, ())
        key = check_title(title)
        if any(title_key(t) == key for t in current):
            raise InvalidModerationData(f"office {self.office_id} already has title {title!r}")
        if len(current) >= MAX_TITLES_PER_LANGUAGE:
            raise InvalidModerationData(
                f"office {self.office_id} has {MAX_TITLES_PER_LANGUAGE} titles in {language}"
            )
        return replace(self, titles={**self.titles, language: (*current, title)})

    def without_title(self, language: str, title: str) -> tuple[Office, str]:
        """The office without the title (compared in title form) and the title as stored."""
        key = title_key(title)
        current = self.titles.get(language, ())
        stored = [t for t in current if title_key(t) == key]
        if not stored:
            raise InvalidModerationData(
                f"office {self.office_id} has no {language} title {title!r}"
            )
        kept = tuple(t for t in current if title_key(t) != key)
        titles = {k: v for k, v in self.titles.items() if k != language}
        if kept:
            titles[language] = kept
        return replace(self, titles=titles), stored[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.office_id,
            "name": self.name,
            "titles": {lang: list(ts) for lang, ts in sorted(self.titles.items())},
            "exclusions": list(self.exclusions),
            "holders": [h.to_json() for h in self.holders],
        }


@dataclass(frozen=True, slots=True)
class Qualifiers:
    """Words next to a title that make it mean someone other than the current holder."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"before": list(self.before), "after": list(self.after)}


def _parse_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidModerationData(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def parse_office(raw: Mapping[str, Any], figure_ids: Iterable[str] | None = None) -> Office:
    try:
        office_id = str(raw["id"])
        name = str(raw["name"])
        raw_titles: Mapping[str, Sequence[str]] = raw["titles"]
    except (KeyError, TypeError) as exc:
        raise InvalidModerationData(f"an office needs 'id', 'name' and 'titles': {exc}") from exc
    if not OFFICE_ID.match(office_id):
        raise InvalidModerationData(f"office id {office_id!r} must match {OFFICE_ID.pattern}")
    titles: dict[str, tuple[str, ...]] = {}
    for language, listed in dict(raw_titles).items():
        if not LANGUAGE.match(str(language)):
            raise InvalidModerationData(f"{office_id}: language {language!r} is not ISO 639-1")
        keys = [check_title(str(t)) for t in listed]
        if len(set(keys)) != len(keys):
            raise InvalidModerationData(f"{office_id}: duplicate {language} title")
        titles[str(language)] = tuple(str(t) for t in listed)
    known = set(figure_ids) if figure_ids is not None else None
    holders: list[Holder] = []
    for entry in raw.get("holders", ()):
        figure_id = str(entry["figure_id"])
        if known is not None and figure_id not in known:
            raise InvalidModerationData(f"{office_id}: holder {figure_id} is not a public figure")
        start = _parse_date(entry["from"], office_id)
        end = _parse_date(entry["to"], office_id) if entry.get("to") else None
        if end is not None and end <= start:
            raise InvalidModerationData(f"{office_id}: {figure_id} ends before they start")
        if holders and (holders[-1].end is None or holders[-1].end > start):
            raise InvalidModerationData(f"{office_id}: holders overlap or are out of order")
        holders.append(Holder(figure_id, start, end))
    exclusions = tuple(native_form(str(e)) for e in raw.get("exclusions", ()))
    return Office(office_id, name, titles, tuple(holders), exclusions)


@dataclass(frozen=True)
class OfficeTable:
    version: int
    offices: tuple[Office, ...]
    qualifiers: Mapping[str, Qualifiers] = field(default_factory=dict)
    source: str = ""
    _by_id: dict[str, Office] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Office] = {}
        for office in self.offices:
            if office.office_id in by_id:
                raise InvalidModerationData(f"duplicate office id {office.office_id}")
            by_id[office.office_id] = office
        object.__setattr__(self, "_by_id", by_id)

    def get(self, office_id: str) -> Office | None:
        return self._by_id.get(office_id)

    def _office(self, office_id: str, expected_version: int | None) -> Office:
        if expected_version is not None and expected_version != self.version:
            raise StaleListVersion(
                f"the office table is at version {self.version}, the edit expected {expected_version}"
            )
        office = self._by_id.get(office_id)
        if office is None:
            raise UnknownOffice(f"no office with id {office_id!r}")
        return office

    def _replaced(self, office: Office) -> OfficeTable:
        offices = tuple(office if o.office_id == office.office_id else o for o in self.offices)
        return OfficeTable(self.version + 1, offices, self.qualifiers, self.source)

    def with_holder(
        self, office_id: str, figure_id: str, start: date, *, expected_version: int | None = None
    ) -> OfficeTable:
        return self._replaced(
            self._office(office_id, expected_version).with_holder(figure_id, start)
        )

    def with_title(
        self, office_id: str, language: str, title: str, *, expected_version: int | None = None
    ) -> OfficeTable:
        office = self._office(office_id, expected_version)
        if not LANGUAGE.match(language):
            raise InvalidModerationData(f"language {language!r} is not ISO 639-1")
        return self._replaced(office.with_title(language, title))

    def without_title(
        self, office_id: str, language: str, title: str, *, expected_version: int | None = None
    ) -> tuple[OfficeTable, str]:
        office, stored = self._office(office_id, expected_version).without_title(language, title)
        return self._replaced(office), stored

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "qualifiers": {k: v.to_json() for k, v in sorted(self.qualifiers.items())},
            "offices": [o.to_json() for o in self.offices],
        }


class UnknownOffice(NotFound):
    code = "unknown_office"


def offices_from_json(
    data: Mapping[str, Any], figure_ids: Iterable[str] | None = None
) -> OfficeTable:
    try:
        version = int(data["version"])
        raw_offices: Sequence[Mapping[str, Any]] = data["offices"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModerationData(f"office data needs 'version' and 'offices': {exc}") from exc
    known = list(figure_ids) if figure_ids is not None else None
    qualifiers = {
        str(lang): Qualifiers(
            tuple(str(w) for w in spec.get("before", ())),
            tuple(str(w) for w in spec.get("after", ())),
        )
        for lang, spec in dict(data.get("qualifiers", {})).items()
    }
    return OfficeTable(
        version,
        tuple(parse_office(r, known) for r in raw_offices),
        qualifiers,
        str(data.get("source", "")),
    )


def load_default_offices(figure_ids: Iterable[str] | None = None) -> OfficeTable:
    """The shipped table; holders are checked against ``figure_ids`` (default: the shipped
    figure list)."""
    if figure_ids is None:
        return _shipped_offices()
    return offices_from_json(shipped_json("public_offices.json"), figure_ids)


@lru_cache(maxsize=1)
def _shipped_offices() -> OfficeTable:
    # Every gate decision folds the live lists over the shipped table: parse it once.
    from trust_safety.moderation.figures import load_default_figures

    figure_ids = [f.figure_id for f in load_default_figures().figures]
    return offices_from_json(shipped_json("public_offices.json"), figure_ids)


def day_of(at: datetime | None) -> date:
    """The UTC day a request is judged on (now when the caller has no clock to give)."""
    moment = at if at is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class OfficeMatch:
    office_id: str
    figure_id: str
    title: str
    language: str
    since: date
    view: str


@dataclass(frozen=True, slots=True)
class _Title:
    office_id: str
    language: str
    title: str
    script: Script
    pattern: re.Pattern[str]
    # The literal every match contains: a text without it is not searched.
    key: str


@lru_cache(maxsize=4096)
def _qualifier_key(word: str, script: Script) -> str:
    if script == "latin":
        return canonical_term(word)
    if script == "spaced":
        return _native_words(word)
    return _cjk_form(word)


class OfficeMatcher:
    def __init__(self, table: OfficeTable) -> None:
        self.table = table
        self._titles: dict[str, list[_Title]] = {}
        for office in table.offices:
            for language, titles in office.titles.items():
                for title in titles:
                    script = script_of(title)
                    key = title_key(title)
                    if script == "latin":
                        body = rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])"
                    elif script == "spaced":
                        lead = (
                            rf"(?:(?<!\w)|(?<=(?<!\w)[{_ARABIC_PROCLITIC}]))"
                            if language == "ar"
                            else r"(?<!\w)"
                        )
                        body = rf"{lead}{re.escape(key)}(?!\w)"
                    else:
                        body = re.escape(key)
                    self._titles.setdefault(office.office_id, []).append(
                        _Title(office.office_id, language, title, script, re.compile(body), key)
                    )

    def _texts(self, prompt: NormalisedPrompt) -> dict[Script, list[tuple[str, str]]]:
        native = prompt.native
        return {
            "latin": [(name, squeeze(words_only(text))) for name, text in prompt.views.items()],
            "spaced": [("native", _native_words(native))],
            "cjk": [("native", _cjk_form(native))],
        }

    def _qualified(self, entry: _Title, text: str, start: int, end: int) -> bool:
        spec = self.table.qualifiers.get(entry.language)
        if spec is None:
            return False
        before = {_qualifier_key(w, entry.script) for w in spec.before}
        after = {_qualifier_key(w, entry.script) for w in spec.after}
        if entry.script == "cjk":
            head, tail = text[:start], text[end:]
            return any(q and head.endswith(q) for q in before) or any(
                q and tail.startswith(q) for q in after
            )
        preceding = text[:start].split()
        following = text[end:].split()
        # A qualifier of two words ("fairy tale") is compared with as many words.
        for q in before:
            n = len(q.split())
            if q and " ".join(preceding[-n:]) == q:
                return True
        for q in after:
            n = len(q.split())
            if q and " ".join(following[:n]) == q:
                return True
        return False

    def match(self, prompt: NormalisedPrompt, day: date) -> list[OfficeMatch]:
        plain = self._texts(prompt)
        masked_cache: dict[tuple[str, ...], dict[Script, list[tuple[str, str]]]] = {}
        found: dict[str, OfficeMatch] = {}
        # Every raw hit first, so a hit inside a longer title is dropped even when the longer
        # one is qualified ("the former vice president of the united states").
        hits: list[tuple[_Title, str, str, int, int]] = []
        for office in self.table.offices:
            present = tuple(e for e in office.exclusions if e and e in prompt.native)
            texts = plain
            if present:
                if present not in masked_cache:
                    masked_cache[present] = self._masked(prompt, present)
                texts = masked_cache[present]
            for entry in self._titles.get(office.office_id, ()):
                for view, text in texts[entry.script]:
                    if entry.key not in text:
                        continue
                    for m in entry.pattern.finditer(text):
                        hits.append((entry, view, text, m.start(), m.end()))
        for entry, view, text, start, end in hits:
            if any(
                other is not entry
                and o_view == view
                and o_text == text
                and o_start <= start
                and end <= o_end
                and (o_end - o_start) > (end - start)
                for other, o_view, o_text, o_start, o_end in hits
            ):
                continue
            if entry.office_id in found or self._qualified(entry, text, start, end):
                continue
            held = self.table.get(entry.office_id)
            holder = held.holder_on(day) if held else None
            if holder is None:
                continue
            found[entry.office_id] = OfficeMatch(
                entry.office_id, holder.figure_id, entry.title, entry.language, holder.start, view
            )
        return list(found.values())

    def _masked(
        self, prompt: NormalisedPrompt, exclusions: tuple[str, ...]
    ) -> dict[Script, list[tuple[str, str]]]:
        native = prompt.native
        for excluded in sorted(exclusions, key=len, reverse=True):
            native = native.replace(excluded, " ")
        if not native.strip():
            return {"latin": [], "spaced": [], "cjk": []}
        return self._texts(normalise(native))
