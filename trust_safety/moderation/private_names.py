"""Private people named in a prompt: "John Smith dancing" becomes "a person dancing".

A full name (a given name followed by a family name) that belongs to no public figure, no
living artist and no cameo the requester may use looks like a private person, whom nobody
asked. The request is not refused: the generator receives the prompt with the name replaced
by neutral words, and the rewrite is recorded (before, after) so the requester and reviewers
see what changed. People are described by what the prompt itself says about them; the
rewrite adds nothing (no guessed gender, age or origin).

What counts as a full name, from the shipped name lists (``data/person_names.json``):

* both words capitalised as names are ("Maria Garcia"), the first a known given name, the
  second a known family name or a word that is no common English word ("Kowalczyk");
* or, in any case, a known given name that is no everyday word followed by a known family
  name ("maria garcia", but not "rose garden" or "will power").

A capitalised second word that is a common English word and no family name ("Grace
Cathedral", "Jordan River", "Victoria Station") is a place, not a person. Middle names and
initials ride along ("John F. Kennedy", "Mary Ann Smith").

Names in other scripts are not read yet (see docs/moderation.md): the stage stays silent on
prompts in non-Latin scripts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trust_safety.moderation.artists import ArtistList
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import InvalidModerationData
from trust_safety.moderation.figures import PublicFigureList
from trust_safety.moderation.language import NON_LATIN_LANGUAGES
from trust_safety.moderation.normalise import NormalisedPrompt, base_form, strip_invisible
from trust_safety.moderation.stages import Evidence, ModerationContext, Rewrite, StageResult
from trust_safety.moderation.vocabulary import EnglishVocabulary, default_vocabulary

REWRITE_KIND = "private_person"

# Second words that make a place or an institution of what precedes them.
_PLACE_HEADS = frozenset(
    [
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "boulevard",
        "square",
        "park",
        "river",
        "lake",
        "mountain",
        "mount",
        "valley",
        "bay",
        "beach",
        "island",
        "islands",
        "city",
        "town",
        "county",
        "state",
        "station",
        "airport",
        "bridge",
        "tower",
        "hotel",
        "hospital",
        "university",
        "college",
        "school",
        "academy",
        "church",
        "cathedral",
        "chapel",
        "temple",
        "mosque",
        "museum",
        "gallery",
        "theatre",
        "theater",
        "stadium",
        "arena",
        "hall",
        "center",
        "centre",
        "house",
        "palace",
        "castle",
        "building",
        "plaza",
        "mall",
        "market",
        "falls",
        "canyon",
        "forest",
        "desert",
        "sea",
        "ocean",
        "creek",
        "harbor",
        "harbour",
        "point",
        "road",
        "highway",
        "way",
        "drive",
        "court",
        "place",
        "gardens",
        "garden",
        "library",
        "institute",
        "foundation",
        "company",
        "corporation",
        "inc",
        "ltd",
        "group",
        "records",
        "studios",
        "pictures",
    ]
)

# Replacements for the first, second, ... distinct person a prompt names.
_NEUTRAL = ("a person", "another person", "a third person", "a fourth person")
_LATER_MENTION = "the same person"

# A word, with inner apostrophes and hyphens ("O'Brien", "Al-Farsi") but not a possessive.
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]{2}))*\.?", re.UNICODE)


def _key(word: str) -> str:
    """A word as the name lists store it: case-folded, apostrophes kept, no trailing dot."""
    return unicodedata.normalize("NFC", word.casefold().rstrip(".")).replace("’", "'")


def _folded(word: str) -> str:
    return base_form(word).rstrip(".")


@dataclass(frozen=True, slots=True)
class PersonNames:
    version: int
    given: frozenset[str]
    surnames: frozenset[str]
    everyday: frozenset[str]
    # Whole names of the "Given Surname" shape that are nobody's private name (fictional
    # characters, mascots, placeholders), as space-joined keys.
    not_private: frozenset[str]

    def is_given(self, word: str) -> bool:
        return _key(word) in self.given or _folded(word) in self.given

    def is_surname(self, word: str) -> bool:
        return _key(word) in self.surnames or _folded(word) in self.surnames

    def is_everyday(self, word: str) -> bool:
        return _key(word) in self.everyday or _folded(word) in self.everyday


def person_names_from_json(data: Mapping[str, Any]) -> PersonNames:
    try:
        version = int(data["version"])
        lists = {
            key: frozenset(_key(str(w)) for w in data[key])
            for key in ("given", "surnames", "everyday_words")
        }
        not_private = frozenset(
            " ".join(_folded(w) for w in str(n).split()) for n in data["not_private"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModerationData(f"person name data is malformed: {exc}") from exc
    if not lists["given"] or not lists["surnames"]:
        raise InvalidModerationData("person name data needs given names and surnames")
    folded = {k: frozenset(_folded(w) for w in v) for k, v in lists.items()}
    return PersonNames(
        version,
        lists["given"] | folded["given"],
        lists["surnames"] | folded["surnames"],
        lists["everyday_words"] | folded["everyday_words"],
        not_private,
    )


def load_default_person_names() -> PersonNames:
    return person_names_from_json(shipped_json("person_names.json"))


@dataclass(frozen=True, slots=True)
class FoundName:
    text: str
    start: int
    end: int


def _title_case(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and letters[0].isupper() and not all(c.isupper() for c in letters[1:])


def _initial(word: str) -> bool:
    return len(word) == 2 and word[0].isupper() and word.endswith(".")


class PrivateNameFinder:
    """Finds full names of the shape above in text, skipping known non-private names."""

    def __init__(
        self,
        names: PersonNames,
        known_names: Iterable[str] = (),
        vocabulary: EnglishVocabulary | None = None,
    ) -> None:
        self.names = names
        self.vocabulary = vocabulary or default_vocabulary()
        known = [tuple(_folded(w) for w in n.split()) for n in known_names]
        self._known_sequences = {" ".join(k) for k in known if k} | names.not_private
        # A known person's distinctive family name, so a misspelt first name ("Barak Obama")
        # or another member of the family is left to the public-figure stage; a common one
        # ("Smith" of "Will Smith") says nothing.
        self._known_surnames = {
            k[-1] for k in known if len(k) >= 2 and k[-1] not in names.surnames
        }

    def _common_word(self, word: str) -> bool:
        return self.vocabulary.is_common(_folded(word))

    def _surname_candidate(self, word: str, capitalised: bool) -> bool:
        folded = _folded(word)
        if folded in _PLACE_HEADS or len(folded) < 2:
            return False
        if self.names.is_surname(word):
            return True
        # An unknown capitalised word after a given name is a family name the lists lack,
        # unless it is an everyday word ("Grace Cathedral").
        return capitalised and not self._common_word(word) and not self.names.is_given(word)

    def find(self, text: str, language: str | None = "en") -> list[FoundName]:
        """``language``: the prompt's; lower-case names are read only in English (elsewhere
        "una sierra" or "alla testa" is a given name before a family name), and in German,
        which capitalises every noun, a family name must be a listed one."""
        words = list(_WORD.finditer(text))
        # In a prompt Written Entirely In Title Case capitals say nothing: only the lists do.
        capitalised_share = sum(_title_case(m.group()) for m in words) / max(1, len(words))
        unlisted_surnames = language != "de"
        # German capitals mark nouns, so a German prompt is always mostly capitalised.
        capitals_mean_names = capitalised_share < 0.6 or not unlisted_surnames
        lower_case = language in ("en", None)
        found: list[FoundName] = []
        i = 0
        while i < len(words) - 1:
            span = self._name_at(
                text, words, i, capitals_mean_names, lower_case, unlisted_surnames
            )
            if span is None:
                i += 1
                continue
            first, last = span
            found.append(
                FoundName(
                    text[words[first].start() : words[last].end()].rstrip("."),
                    words[first].start(),
                    words[last].end(),
                )
            )
            i = last + 1
        return found

    def _name_at(
        self,
        text: str,
        words: list[re.Match[str]],
        i: int,
        capitals_mean_names: bool,
        lower_case: bool,
        unlisted_surnames: bool,
    ) -> tuple[int, int] | None:
        given = words[i].group()
        if not self.names.is_given(given):
            return None
        given_capitalised = _title_case(given) and capitals_mean_names
        if not given_capitalised and (not lower_case or self.names.is_everyday(given)):
            return None
        last_surname: int | None = None
        j = i + 1
        # Up to three more words: middle names, initials, one or two family names.
        while j < len(words) and j <= i + 3:
            between = text[words[j - 1].end() : words[j].start()]
            if between.strip(" ") or "\n" in between:
                break
            word = words[j].group()
            capitalised = _title_case(word) and capitals_mean_names
            if given_capitalised and not capitalised and not _initial(word):
                break
            if _initial(word) and given_capitalised:
                j += 1
                continue
            if self._surname_candidate(
                word, capitalised and given_capitalised and unlisted_surnames
            ):
                # In lower case only the lists speak: a given name that is no everyday word
                # ("john", "maria") before a listed family name.
                if not capitalised and self.names.is_everyday(given):
                    break
                last_surname = j
            elif not (capitalised and self.names.is_given(word)):
                break
            j += 1
        if last_surname is None:
            return None
        key_words = [
            _folded(w.group()) for w in words[i : last_surname + 1] if not _initial(w.group())
        ]
        if " ".join(key_words) in self._known_sequences or key_words[-1] in self._known_surnames:
            return None
        # "Will Smith" in a longer known name ("Will Smith Jr") or a known name inside the span.
        joined = " ".join(key_words)
        if any(k in joined for k in self._known_sequences if " " in k and len(k) <= len(joined)):
            return None
        return i, last_surname


def _neutral(index: int) -> str:
    return _NEUTRAL[index] if index < len(_NEUTRAL) else "another person"


def _replace_names(text: str, names: list[str]) -> str:
    """Each distinct name to neutral words: first mention "a person", later ones "the same
    person"; capitalised where a sentence starts."""
    order = {n.casefold(): k for k, n in enumerate(dict.fromkeys(n.casefold() for n in names))}
    seen: set[str] = set()
    alternation = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    if not alternation:
        return text
    pattern = re.compile(rf"(?<![\w])(?:{alternation})(?![\w])", re.IGNORECASE)

    def substitute(match: re.Match[str]) -> str:
        key = match.group().casefold()
        index = order.get(key, len(order))
        words = _LATER_MENTION if key in seen else _neutral(index)
        seen.add(key)
        before = text[: match.start()].rstrip()
        # Capitalised where the name was and a sentence starts; lower case stays lower.
        if match.group()[0].isupper() and (not before or before[-1] in '.!?:\n"“('):
            words = words[0].upper() + words[1:]
        return words

    return pattern.sub(substitute, text)


class PrivateNameStage:
    name = "private_names"
    version = "1"

    def __init__(self, finder: PrivateNameFinder) -> None:
        self.finder = finder

    def _versions(self) -> dict[str, str]:
        return {"person_names": str(self.finder.names.version)}

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        if context.language in NON_LATIN_LANGUAGES:
            return StageResult(self.name, self.version, data_versions=self._versions())
        source = strip_invisible(prompt.original)
        found = self.finder.find(source, context.language)
        evidence: list[Evidence] = []
        rewritten: list[str] = []
        consent = context.cameo_name_consent
        for name in dict.fromkeys(f.text for f in found):
            consented = bool(
                context.requester_id is not None
                and consent is not None
                and consent(context.requester_id, name)
            )
            evidence.append(
                Evidence(
                    None,
                    "private_name",
                    "person_names",
                    1.0,
                    detail="a cameo the requester may use" if consented else "rewritten",
                )
            )
            if not consented:
                rewritten.append(name)
        if not rewritten:
            return StageResult(
                self.name, self.version, evidence=tuple(evidence), data_versions=self._versions()
            )
        names = list(rewritten)
        after = _replace_names(source, names)
        return StageResult(
            self.name,
            self.version,
            evidence=tuple(evidence),
            rewrite=Rewrite(
                REWRITE_KIND,
                prompt.original,
                after,
                tuple(names),
                apply=lambda text: _replace_names(text, names),
            ),
            data_versions=self._versions(),
        )


def private_name_stage(
    figures: PublicFigureList, artists: ArtistList, names: PersonNames | None = None
) -> PrivateNameStage:
    """The stage over the shipped name lists, knowing the public figures and living artists
    (their names are theirs to match, never rewritten as a private person's)."""
    known = [n for f in figures.figures for n in f.all_names()]
    known += [n for a in artists.artists for n in a.all_names()]
    return PrivateNameStage(PrivateNameFinder(names or load_default_person_names(), known))
