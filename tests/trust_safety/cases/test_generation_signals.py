"""Output moderation's scores reach triage and the evidence of an action (real events)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.generation import OutputModerated
from core.events import SYSTEM_ACTOR, stream_id
from core.services import Services
from tests.trust_safety.cases.foreign import publish
from tests.utils import drain, make_principal
from trust_safety.cases.models import AssetFactsRow
from trust_safety.cases.registration import PROJECTIONS


def moderated(generation_id: str, scores: dict[str, float | None]) -> Any:
    return OutputModerated(
        generation_id=generation_id,
        decision="allow",
        policy_version="output-2026.03",
        blocked_categories=[],
        verdicts=[
            {
                "category": c,
                "status": "evaluated" if s is not None else "not_evaluated",
                "outcome": "allow",
                "max_score": s,
                "threshold": 0.8,
                "evaluated_by": ["nsfw"],
                "reason": "below_threshold",
                "worst_frame_s": 0.5,
            }
            for c, s in scores.items()
        ],
        frame_scores=[],
        classifiers=["nsfw"],
        master_blob="b" * 64,
    )


def test_scores_raise_priority_and_become_evidence(client: Any, services: Services) -> None:
    owner, _ = make_principal(services, "user")
    _, rh = make_principal(services, "user")
    _, ah = make_principal(services, "reviewer")
    outputs: list[tuple[str, dict[str, float | None]]] = [
        ("calm", {"sexual": 0.01}),
        ("edgy", {"sexual": 0.7, "gore": None}),
    ]
    for asset, scores in outputs:
        services.store.append(
            stream_id("output", f"gen-{asset}"),
            [moderated(f"gen-{asset}", scores)],
            expected_version=None,
            actor=SYSTEM_ACTOR,
        )
        publish(services, asset, owner)
    drain(services, list(PROJECTIONS))
    with services.sessions() as s:
        edgy = s.get(AssetFactsRow, "edgy")
        assert edgy is not None and edgy.classifier_scores == {"sexual": 0.7}
        assert edgy.owner_id == owner and edgy.moderation_policy_version == "output-2026.03"
    body = {
        "category": "sexual_content",
        "explanation": "explicit scene in the middle",
        "good_faith": True,
    }
    for asset in ("calm", "edgy"):
        r = client.post(
            "/v1/reports", headers=rh, json={**body, "target": {"kind": "asset", "id": asset}}
        )
        assert r.status_code == 201, r.text
    drain(services, list(PROJECTIONS))
    queue = client.get("/v1/cases/queue", headers=ah).json()["cases"]
    assert [c["target"]["id"] for c in queue] == ["edgy", "calm"]
    assert queue[0]["priority"] - queue[1]["priority"] == pytest.approx(40 * (0.7 - 0.01))
    case_id = queue[0]["case_id"]
    assert client.post(f"/v1/cases/{case_id}/claim", headers=ah).status_code == 200
    acted = client.post(
        f"/v1/cases/{case_id}/actions",
        headers=ah,
        json={
            "kind": "age_restrict_asset",
            "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "ground_reference": "Terms of Service 5.1 (adult content)",
            "ground_explanation": "Sexualised content is shown to adults only.",
            "facts": "An explicit scene between 0:04 and 0:07.",
        },
    )
    assert acted.status_code == 201, acted.text
    drain(services, list(PROJECTIONS))
    action = client.get(f"/v1/enforcement/actions/{acted.json()['action_id']}", headers=ah).json()
    assert action["evidence"]["rule_id"] == "output-moderation"
    assert action["evidence"]["rule_version"] == "output-2026.03"
    assert action["evidence"]["classifier_scores"] == {"sexual": 0.7}
