"""The pipeline's wiring, with the weight-free hashing embedder (fast, deterministic)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from trust_safety.classifiers.text_embedding import HashingEmbedder, embed_with_disk_cache
from trust_safety.moderation.blocklist import load_default_blocklist
from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import DuplicateStage
from trust_safety.moderation.normalise import NormalisedPrompt
from trust_safety.moderation.pipeline import PromptModerationPipeline, build_default_pipeline
from trust_safety.moderation.semantic import ExemplarSet, LinearProbe, SemanticStage
from trust_safety.moderation.stages import ModerationContext, StageResult


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> PromptModerationPipeline:
    return build_default_pipeline(
        embedder=HashingEmbedder(), cache_dir=tmp_path_factory.mktemp("emb")
    )


class FixedIpStage:
    """A stand-in for the opt-out package's stage: anything plugged in must be honoured."""

    name = "ip_optout_test"
    version = "7"

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        score = 1.0 if "zorblax" in prompt.joined else 0.0
        return StageResult(
            self.name, self.version, scores={Category.IP: score}, data_versions={"optouts": "3"}
        )


def test_refusal_shows_the_category_but_never_the_matched_term(
    pipeline: PromptModerationPipeline,
) -> None:
    decision = pipeline.moderate("a d3c4p1t4t3d body")
    assert not decision.approved and decision.reason is Category.VIOLENCE_GORE
    view = decision.user_view()
    assert view["reason_category"] == "violence_gore"
    assert "decapitat" not in json.dumps(view)
    record = decision.to_record()
    assert any(
        e["kind"] == "blocklist_term" and e["ref"] == "decapitated" for e in record["evidence"]
    )
    assert record["data_versions"]["blocklist"] == str(load_default_blocklist().version)
    assert set(record["stage_versions"]) == {
        "blocklist",
        "minors",
        "public_figures",
        "living_artists",
        "private_names",
        "semantic",
        "terms_i18n",
        "semantic_multilingual",
        "gloss_en",
    }


def test_sexual_content_with_a_minor_is_refused_as_minors(
    pipeline: PromptModerationPipeline,
) -> None:
    decision = pipeline.moderate("a nude teen")
    assert decision.reason is Category.MINORS and decision.minor_mode


def test_rewrite_is_applied_to_the_effective_prompt_and_recorded(
    pipeline: PromptModerationPipeline,
) -> None:
    decision = pipeline.moderate("a lighthouse in the style of Hayao Miyazaki")
    assert decision.approved and decision.rewrite is not None
    assert "miyazaki" not in decision.effective_prompt.lower()
    assert decision.user_view() == {"outcome": "approved", "prompt_rewritten": True}
    assert decision.to_record()["rewrite"]["refs"] == ["artist-hayao-miyazaki"]


def test_public_figure_consent_comes_from_the_seam(pipeline: PromptModerationPipeline) -> None:
    refused = pipeline.moderate("Keanu Reeves making pancakes")
    assert refused.reason is Category.PUBLIC_FIGURES
    granted = pipeline.moderate(
        "Keanu Reeves making pancakes",
        ModerationContext(
            requester_id="u1", likeness_consent=lambda user, figure: figure == "pf-keanu-reeves"
        ),
    )
    assert granted.approved


def test_plugged_in_stage_contributes_scores_and_versions(
    pipeline: PromptModerationPipeline,
) -> None:
    extended = pipeline.with_stage(FixedIpStage())
    decision = extended.moderate("z o r b l a x at the beach")
    assert decision.reason is Category.IP
    assert decision.data_versions["optouts"] == "3"
    with pytest.raises(DuplicateStage):
        extended.with_stage(FixedIpStage())
    with pytest.raises(DuplicateStage):
        pipeline.replace_stage(FixedIpStage())


def test_exemplar_embeddings_are_cached_on_disk(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=64)
    first = embed_with_disk_cache(embedder, ["a", "b c"], tmp_path)
    files = list(tmp_path.glob("emb-*.npy"))
    assert len(files) == 1
    np.save(files[0], first * 0 + 5.0)  # the cache, not the embedder, answers now
    assert np.allclose(embed_with_disk_cache(embedder, ["a", "b c"], tmp_path), 5.0)
    assert len(list(tmp_path.glob("emb-*.npy"))) == 1
    embed_with_disk_cache(embedder, ["a", "b d"], tmp_path)  # another corpus, another file
    assert len(list(tmp_path.glob("emb-*.npy"))) == 2


def test_linear_probe_separates_separable_data() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=(3, 16))
    vectors = np.vstack([centre[i] + 0.1 * rng.normal(size=(20, 16)) for i in range(3)])
    labels = ["benign"] * 20 + ["sexual"] * 20 + ["violence_gore"] * 20
    probe = LinearProbe(vectors, labels, c=10.0)
    assert probe.classes == ("sexual", "violence_gore")
    probs = probe.predict_proba(centre.astype(np.float32))
    assert probs[0].max() < 0.2
    assert probs[1, 0] > 0.8 and probs[2, 1] > 0.8


def test_a_centred_semantic_stage_keeps_unit_vectors_around_the_exemplars_mean() -> None:
    exemplars = ExemplarSet(
        1,
        {
            "benign": ("a cat sleeping on a sofa", "kids flying kites", "a bowl of fruit"),
            "violence_gore": ("a gory decapitation", "blood spraying from a wound"),
        },
    )
    plain = SemanticStage(HashingEmbedder(), exemplars, cache_dir=None)
    centred = SemanticStage(HashingEmbedder(), exemplars, cache_dir=None, center=True)
    matrix = centred._matrix
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(matrix, plain._matrix)
    from trust_safety.moderation.normalise import normalise

    gory = centred.evaluate(normalise("blood spraying from a deep wound"), ModerationContext())
    calm = centred.evaluate(normalise("a cat sleeping on a sofa"), ModerationContext())
    assert gory.scores[Category.VIOLENCE_GORE] > calm.scores[Category.VIOLENCE_GORE]


def test_semantic_stage_scores_the_nearest_category() -> None:
    exemplars = ExemplarSet(
        1,
        {
            "benign": (
                "a cat sleeping on a sofa",
                "a bowl of fruit on a table",
                "kids flying kites",
            ),
            "violence_gore": (
                "a gory decapitation",
                "blood spraying from a wound",
                "a violent stabbing",
            ),
        },
    )
    stage = SemanticStage(HashingEmbedder(), exemplars, cache_dir=None)
    from trust_safety.moderation.normalise import normalise

    gory = stage.evaluate(normalise("blood spraying from a deep wound"), ModerationContext())
    calm = stage.evaluate(normalise("a cat sleeping on a sofa"), ModerationContext())
    assert gory.scores[Category.VIOLENCE_GORE] > calm.scores[Category.VIOLENCE_GORE]
    assert gory.evidence[0].ref.startswith("violence_gore:")


class _Handshake:
    """Two stages that each wait for the other: they finish only if they run at once."""

    def __init__(self) -> None:
        self.inline_ran = threading.Event()
        self.beside_started = threading.Event()


class _BesideStage:
    name = "beside"
    version = "1"
    concurrent = True

    def __init__(self, handshake: _Handshake, fail: bool = False) -> None:
        self.handshake = handshake
        self.fail = fail
        self.thread = ""

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        self.thread = threading.current_thread().name
        self.handshake.beside_started.set()
        if not self.handshake.inline_ran.wait(5):
            raise AssertionError("the inline stage never ran while this one did")
        if self.fail:
            raise RuntimeError("the encoder failed")
        return StageResult(self.name, self.version, scores={Category.SEXUAL: 0.99})


class _InlineStage:
    name = "inline"
    version = "1"

    def __init__(self, handshake: _Handshake) -> None:
        self.handshake = handshake

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        if not self.handshake.beside_started.wait(5):
            raise AssertionError("the concurrent stage had not started")
        self.handshake.inline_ran.set()
        return StageResult(self.name, self.version, scores={Category.IP: 0.0})


def test_a_concurrent_stage_reads_the_prompt_beside_the_others_and_keeps_its_place(
    pipeline: PromptModerationPipeline,
) -> None:
    handshake = _Handshake()
    beside = _BesideStage(handshake)
    pipeline = PromptModerationPipeline([beside, _InlineStage(handshake)], pipeline.policy)
    _, _, results = pipeline.read("a cat on a sofa")
    assert [r.stage for r in results] == ["beside", "inline"]
    assert beside.thread.startswith("moderation-stage")
    decision = pipeline.moderate("a dog on a sofa")
    assert not decision.approved and decision.reason is Category.SEXUAL


def test_a_concurrent_stages_error_is_raised_to_the_caller(
    pipeline: PromptModerationPipeline,
) -> None:
    handshake = _Handshake()
    pipeline = PromptModerationPipeline(
        [_BesideStage(handshake, fail=True), _InlineStage(handshake)], pipeline.policy
    )
    with pytest.raises(RuntimeError, match="the encoder failed"):
        pipeline.read("a cat on a sofa")


def test_the_multilingual_stage_is_the_one_that_runs_beside(
    pipeline: PromptModerationPipeline,
) -> None:
    beside = [s.name for s in pipeline.stages if getattr(s, "concurrent", False)]
    assert beside == ["semantic_multilingual"]
