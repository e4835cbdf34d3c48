"""Properties: evasion rewrites of a listed term are still caught; the policy is monotone."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from trust_safety.moderation.blocklist import BlocklistStage, load_default_blocklist
from trust_safety.moderation.categories import Category
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.policy import load_default_policy
from trust_safety.moderation.stages import ModerationContext, StageResult

STAGE = BlocklistStage(load_default_blocklist())
TERMS = [
    (Category.SEXUAL, "pornography"),
    (Category.VIOLENCE_GORE, "decapitated"),
    (Category.HATE_SYMBOLS, "swastika"),
    (Category.SELF_HARM, "thinspiration"),
    (Category.ILLEGAL_ACTIVITY, "methamphetamine"),
]
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
HOMOGLYPH = {
    "a": "\u0430",
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "c": "\u0441",
    "x": "\u0445",
}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad"]


@st.composite
def disguised(draw: st.DrawFn) -> tuple[Category, str]:
    category, term = draw(st.sampled_from(TERMS))
    out = []
    for char in term:
        kind = draw(st.sampled_from(["plain", "leet", "homoglyph", "invisible", "repeat", "upper"]))
        if kind == "leet" and char in LEET:
            out.append(LEET[char])
        elif kind == "homoglyph" and char in HOMOGLYPH:
            out.append(HOMOGLYPH[char])
        elif kind == "invisible":
            out.append(char + draw(st.sampled_from(INVISIBLE)))
        elif kind == "repeat":
            out.append(char * 3)
        elif kind == "upper":
            out.append(char.upper())
        else:
            out.append(char)
    word = "".join(out)
    spaced_out = draw(st.booleans())
    if spaced_out:
        # Spaced-out words are built from single letters; a tripled letter ends the run.
        word = "".join(o[: len(o) // 3] if len(o) >= 3 and len(set(o)) == 1 else o for o in out)
        word = draw(st.sampled_from([" ", ".", "-", " . "])).join(word)
    prefix = draw(st.sampled_from(["", "a video of ", "show me "]))
    return category, f"{prefix}{word} at night"


@settings(max_examples=150, deadline=None)
@given(disguised())
@example((Category.HATE_SYMBOLS, "s . w . a . s . t . i . k . \u200b . a at night"))
def test_disguised_list_terms_are_still_caught(case: tuple[Category, str]) -> None:
    category, prompt = case
    result = STAGE.evaluate(normalise(prompt), ModerationContext())
    assert result.scores.get(category) == 1.0, prompt


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(list(Category)), st.floats(0.0, 1.0), min_size=1),
    st.sampled_from(list(Category)),
    st.floats(0.0, 1.0),
    st.booleans(),
)
def test_raising_a_score_never_turns_a_refusal_into_an_approval(
    scores: dict[Category, float], raised: Category, extra: float, minor: bool
) -> None:
    policy = load_default_policy()
    signals = {"minor_reference": 1.0} if minor else {}
    before = policy.decide([StageResult("semantic", "1", scores=scores, signals=signals)])
    higher = {**scores, raised: min(1.0, scores.get(raised, 0.0) + extra)}
    after = policy.decide([StageResult("semantic", "1", scores=higher, signals=signals)])
    assert set(before.refused) <= set(after.refused)
