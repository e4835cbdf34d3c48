"""Living artists: "in the style of <artist>" becomes a generic description of the style.

The request is not refused; the prompt sent to the generator is rewritten and the rewrite is
recorded in the decision (before, after, which artists), so the requester and reviewers can
see what changed and why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import InvalidModerationData
from trust_safety.moderation.normalise import NormalisedPrompt, base_form, squeeze, words_only
from trust_safety.moderation.stages import Evidence, ModerationContext, Rewrite, StageResult


@dataclass(frozen=True, slots=True)
class LivingArtist:
    artist_id: str
    name: str
    aliases: tuple[str, ...]
    generic_style: str

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class ArtistList:
    version: int
    artists: tuple[LivingArtist, ...]


def artists_from_json(data: Mapping[str, Any]) -> ArtistList:
    try:
        version = int(data["version"])
        artists = tuple(
            LivingArtist(
                artist_id=str(raw["id"]),
                name=str(raw["name"]),
                aliases=tuple(str(a) for a in raw.get("aliases", ())),
                generic_style=str(raw["generic_style"]),
            )
            for raw in data["artists"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidModerationData(f"artist data is malformed: {exc}") from exc
    for artist in artists:
        if not artist.generic_style.strip():
            raise InvalidModerationData(f"artist {artist.artist_id} has no generic style")
    return ArtistList(version, artists)


def load_default_artists() -> ArtistList:
    return artists_from_json(shipped_json("living_artists.json"))


_LEAD_IN = r"(?:(?:in\s+the\s+(?:style|manner|vein)\s+of|in\s+(?:a|the)\s+style\s+(?:of|like)|style\s+of|inspired\s+by|a\s+la|à\s+la|like|by)\s+)?"
_TRAIL = r"(?:(?:'s)?[\s-]+(?:style|inspired|esque|like))?"


def _name_pattern(name: str) -> str:
    # Match the name as typed in the original text: any case, flexible spacing/punctuation.
    parts = [re.escape(p) for p in re.split(r"[\s.\-_]+", name.strip()) if p]
    return r"[\s.\-_]*".join(parts)


class ArtistStyleStage:
    name = "living_artists"
    version = "1"

    def __init__(self, artists: ArtistList) -> None:
        self.artists = artists
        self._patterns: list[tuple[LivingArtist, re.Pattern[str], tuple[str, ...]]] = []
        for artist in artists.artists:
            names = sorted(artist.all_names(), key=len, reverse=True)
            alternation = "|".join(_name_pattern(n) for n in names)
            pattern = re.compile(rf"{_LEAD_IN}\b(?:{alternation})\b{_TRAIL}", re.IGNORECASE)
            squeezed_names = tuple(squeeze(words_only(base_form(n))) for n in names)
            self._patterns.append((artist, pattern, squeezed_names))

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        mentioned = [
            (artist, pattern)
            for artist, pattern, names in self._patterns
            if any(
                _contains_words(squeeze(words_only(v)), n)
                for v in prompt.views.values()
                for n in names
            )
        ]
        if not mentioned:
            return StageResult(
                self.name, self.version, data_versions={"living_artists": str(self.artists.version)}
            )
        # Rewrite the text as the user typed it when the name is visible there; when it only
        # appears after normalisation (homoglyphs, leet) rewrite the first view that shows it.
        candidates = (prompt.original, prompt.base, prompt.leet, prompt.joined)
        source = next(
            (text for text in candidates if any(p.search(text) for _, p in mentioned)),
            prompt.joined,
        )
        rewritten = _restyle(source, mentioned)
        refs = tuple(a.artist_id for a, _ in mentioned)
        evidence = tuple(
            Evidence(
                None, "living_artist_style", a.artist_id, 1.0, detail="rewritten to generic style"
            )
            for a, _ in mentioned
        )
        return StageResult(
            self.name,
            self.version,
            evidence=evidence,
            rewrite=Rewrite(
                "living_artist_style",
                prompt.original,
                rewritten,
                refs,
                apply=lambda text: _restyle(text, mentioned),
            ),
            data_versions={"living_artists": str(self.artists.version)},
        )


def _restyle(text: str, mentioned: list[tuple[LivingArtist, re.Pattern[str]]]) -> str:
    for artist, pattern in mentioned:
        text = pattern.sub(f"in the style of {artist.generic_style}", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _contains_words(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) is not None
