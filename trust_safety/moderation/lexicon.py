"""Whole-word term matching that survives the evasions the normaliser undoes.

Terms are stored in *term form* (normalised, punctuation to single spaces). Each letter of a
term matches a run of that letter in the text, so "nuuude" meets "nude" and "kkkk" meets
"kkk", while "kil" does not meet "kill". Matches are whole words, so "therapist" never
matches "rapist"; common inflections ("-s", "-ing", "-ed") need not be listed.

``canonical_term`` (term form with every repeated letter squeezed) is the key other matchers
(public figures, opt-outs) compare names in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from trust_safety.moderation.normalise import (
    NormalisedPrompt,
    base_form,
    join_split_letters,
    squeeze,
    words_only,
)

# Inflections a list author should not have to spell out.
_SUFFIXES = r"(?:s|es|ed|d|ing|er|ers|y)?"


def term_form(term: str) -> str:
    """The form a list entry is stored in: normalised, spaced-out letters glued, words
    separated by single spaces ("P O R N" and "porn" are one entry)."""
    glued, _ = join_split_letters(base_form(term))
    return words_only(glued)


def canonical_term(term: str) -> str:
    """Term form with repeated letters squeezed: the comparison key for name matchers."""
    return squeeze(term_form(term))


def term_regex(term: str) -> str:
    """A term as a regex in which every letter also matches a longer run of itself."""
    words = []
    for word in term.split():
        parts = []
        for char, run in groupby(word):
            count = len(list(run))
            parts.append(re.escape(char) + ("+" if count == 1 else f"{{{count},}}"))
        words.append("".join(parts))
    return r"\s+".join(words)


@dataclass(frozen=True, slots=True)
class LexiconHit:
    term: str
    view: str


class Lexicon:
    """A compiled set of terms; ``find`` returns each distinct term hit with the view it hit."""

    def __init__(
        self, terms: Iterable[str], *, inflect: bool = True, exceptions: Iterable[str] = ()
    ) -> None:
        # Idioms in which a listed word is harmless ("naked eye", "suicide prevention"): they
        # are blanked out of the text before matching.
        allowed = sorted({term_form(e) for e in exceptions if term_form(e)}, key=len, reverse=True)
        self._exceptions: re.Pattern[str] | None = (
            re.compile(
                rf"(?<![a-z0-9])(?:{'|'.join(term_regex(a) for a in allowed)})[a-z]*(?![a-z0-9])"
            )
            if allowed
            else None
        )
        forms = sorted({term_form(t) for t in terms if term_form(t)}, key=len, reverse=True)
        self.terms: tuple[str, ...] = tuple(forms)
        self._by_group: list[str] = []
        if forms:
            suffix = _SUFFIXES if inflect else ""
            groups = "|".join(f"({term_regex(t)})" for t in forms)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![a-z0-9])(?:{groups}){suffix}(?![a-z0-9])"
            )
            # A run of glued letters may hold a term plus a swallowed one-letter word.
            self._run_patterns = [
                (t, re.compile(term_regex(t))) for t in forms if " " not in t and len(t) >= 3
            ]
        else:
            self._pattern = None
            self._run_patterns = []

    def __len__(self) -> int:
        return len(self.terms)

    def _blank_exceptions(self, text: str) -> str:
        if self._exceptions is None:
            return text
        return self._exceptions.sub(" , ", text)

    def _terms_in(self, text: str) -> list[str]:
        assert self._pattern is not None
        found = []
        for match in self._pattern.finditer(self._blank_exceptions(words_only(text))):
            index = next(i for i, g in enumerate(match.groups()) if g is not None)
            found.append(self.terms[index])
        return found

    def find(self, prompt: NormalisedPrompt) -> list[LexiconHit]:
        if self._pattern is None:
            return []
        hits: dict[str, LexiconHit] = {}
        for view_name, text in prompt.views.items():
            for term in self._terms_in(text):
                hits.setdefault(term, LexiconHit(term, view_name))
        # A spaced-out word can swallow a neighbouring one-letter word ("a n a k e d"), so
        # inside glued runs a term may start or end mid-run.
        for run in prompt.joined_runs:
            for term, pattern in self._run_patterns:
                match = pattern.search(run)
                if match and len(run) - len(match.group(0)) <= 2:
                    hits.setdefault(term, LexiconHit(term, "joined_run"))
        return list(hits.values())

    def find_in_text(self, text: str) -> list[str]:
        """Match against one already-normalised text."""
        if self._pattern is None:
            return []
        return self._terms_in(text)
