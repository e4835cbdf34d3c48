"""References to under-18s.

This stage does not refuse anything by itself: it raises the ``minor_reference`` signal, and
the policy then applies its stricter thresholds for sexual, violent and self-harm content and
refuses any sexual content outright. Ages are read from the base view (where digits survive),
words from every view.
"""

from __future__ import annotations

import re

from trust_safety.moderation.lexicon import Lexicon
from trust_safety.moderation.normalise import NormalisedPrompt
from trust_safety.moderation.stages import Evidence, ModerationContext, StageResult

MINOR_TERMS: tuple[str, ...] = (
    "child",
    "children",
    "childs",
    "kid",
    "kiddo",
    "kiddie",
    "toddler",
    "infant",
    "baby",
    "babies",
    "newborn",
    "preschooler",
    "schoolgirl",
    "schoolboy",
    "schoolkid",
    "school girl",
    "school boy",
    "teen",
    "teens",
    "teenage",
    "teenager",
    "teenaged",
    "preteen",
    "pre teen",
    "tween",
    "underage",
    "under age",
    "underaged",
    "minor",
    "minors",
    "juvenile",
    "adolescent",
    "youngster",
    "pubescent",
    "prepubescent",
    "little girl",
    "little boy",
    "young girl",
    "young boy",
    "small girl",
    "small boy",
    "loli",
    "lolita",
    "shota",
    "shotacon",
    "lolicon",
    "jailbait",
    "barely legal",
    "middle schooler",
    "high schooler",
    "grade schooler",
    "elementary school",
    "middle school",
    "kindergarten",
    "kindergartner",
    "cheerleader in middle school",
    "girl scout",
    "boy scout",
    "daughter",
    "stepdaughter",
    "step daughter",
    "niece",
    "pupil",
    "schoolchild",
    "schoolchildren",
    "first grader",
    "fifth grader",
    "sixth grader",
    "seventh grader",
    "eighth grader",
    "ninth grader",
    "tenth grader",
    "freshman in high school",
)

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
}
_AGE_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_AGE_PATTERNS = (
    re.compile(rf"\b{_AGE_NUMBER}\s*-?\s*(?:years?|yrs?|yr)\s*-?\s*old\b"),
    re.compile(rf"\b{_AGE_NUMBER}\s*-?\s*(?:y/?o|yo|y\.o\.)\b"),
    re.compile(rf"\b(?:aged?|age of)\s*{_AGE_NUMBER}\b"),
    re.compile(rf"\b{_AGE_NUMBER}(?:st|nd|rd|th)?\s+birthday\b"),
    re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s+grade"),
)
ADULT_AGE = 18


def _age_value(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


class MinorsStage:
    name = "minors"
    version = "1"

    def __init__(self, extra_terms: tuple[str, ...] = ()) -> None:
        self._lexicon = Lexicon((*MINOR_TERMS, *extra_terms))

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        evidence: list[Evidence] = []
        for hit in self._lexicon.find(prompt):
            evidence.append(Evidence(None, "minor_reference", hit.term, 1.0, view=hit.view))
        for pattern in _AGE_PATTERNS:
            for match in pattern.finditer(prompt.base):
                age = _age_value(match.group(1))
                # A grade number is not an age: 1st-12th grade spans roughly ages 6-18.
                is_grade = "grade" in match.group(0)
                if age is not None and (is_grade or age < ADULT_AGE):
                    evidence.append(Evidence(None, "minor_age", match.group(0), 1.0, view="base"))
        signals = {"minor_reference": 1.0} if evidence else {}
        return StageResult(self.name, self.version, evidence=tuple(evidence), signals=signals)
