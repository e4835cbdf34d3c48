"""The harm categories the prompt policy decides on.

The values are part of the public API: a refused user is told the category (never the list
entry or exemplar that matched), and events store the value.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    SEXUAL = "sexual"
    MINORS = "minors"
    VIOLENCE_GORE = "violence_gore"
    SELF_HARM = "self_harm"
    HATE_SYMBOLS = "hate_symbols"
    ILLEGAL_ACTIVITY = "illegal_activity"
    ELECTION_DECEPTION = "election_deception"
    PUBLIC_FIGURES = "public_figures"
    IP = "ip"


# When several categories fire, the user is shown the most severe one first; the order is
# the order a reviewer would escalate in.
SEVERITY_ORDER: tuple[Category, ...] = (
    Category.MINORS,
    Category.SEXUAL,
    Category.SELF_HARM,
    Category.VIOLENCE_GORE,
    Category.HATE_SYMBOLS,
    Category.ILLEGAL_ACTIVITY,
    Category.ELECTION_DECEPTION,
    Category.PUBLIC_FIGURES,
    Category.IP,
)

USER_FACING_REASON: dict[Category, str] = {
    Category.SEXUAL: "The prompt asks for sexual or explicit content.",
    Category.MINORS: "The prompt involves minors in a way our policy does not allow.",
    Category.VIOLENCE_GORE: "The prompt asks for graphic violence or gore.",
    Category.SELF_HARM: "The prompt depicts or encourages self-harm or suicide.",
    Category.HATE_SYMBOLS: "The prompt asks for hateful symbols or hateful content.",
    Category.ILLEGAL_ACTIVITY: "The prompt asks for illegal activity.",
    Category.ELECTION_DECEPTION: "The prompt asks for deceptive content about elections.",
    Category.PUBLIC_FIGURES: "The prompt depicts a real public figure who has not consented.",
    Category.IP: "The prompt uses a protected work or character whose owner opted out.",
}


# Not a harm: the gate cannot yet read the prompt's language (or its words mix scripts), so it
# does not approve it. A refusal code of its own, never a Category, because nothing was scored.
LANGUAGE_UNSUPPORTED = "language_unsupported"
LANGUAGE_UNSUPPORTED_REASON = (
    "The prompt's language is not supported yet. Please write it in one of the supported languages."
)


def parse_category(value: str) -> Category:
    from trust_safety.moderation.errors import UnknownCategory

    try:
        return Category(value)
    except ValueError:
        raise UnknownCategory(
            f"unknown category {value!r}; expected one of {[c.value for c in Category]}"
        ) from None
