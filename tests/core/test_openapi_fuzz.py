"""schemathesis against the live app: the OpenAPI document is the contract, and the app keeps it.

Every GET and POST operation gets generated requests, valid and invalid, sent as an admin and
as a user (through the ASGI transport, on a migrated SQLite deployment with some data in it).
No answer may be a 500, carry a status the operation does not declare, break the declared
schema, or have an undeclared media type. Bounded: a few examples per operation and mode, no
shrinking, so the whole run stays around a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.app import create_app  # noqa: E402
from core.services import Services  # noqa: E402
from tests.trust_safety.cases.foreign import publish  # noqa: E402
from tests.utils import drain, make_principal  # noqa: E402
from tests.utils.enrolment import register_cameo  # noqa: E402

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# examples per operation and generation mode (raise them for a longer hunt)
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
SEEDED = ["feed", "cases-assets", "cases-queue", "cases-actions", "cases-appeals", "cases-inbox",
          "consent-ledger", "optout-registry", "generation-requests"]  # fmt: skip


def _seed(client: TestClient, services: Services, user_id: str, user: dict[str, str],
          admin: dict[str, str]) -> None:  # fmt: skip
    """A little of everything, so lists and views answer with bodies to check."""
    publish(services, "fuzz-asset-1", user_id)
    drain(services, ["cases-assets"])  # a report names a video the cases domain has seen
    register_cameo(client, user, "fuzzy.cat")  # from a real capture (tests/utils/enrolment.py)
    r = client.post("/v1/optouts", headers=admin, json={
        "rights_holder_name": "Fuzz Studios", "terms": {"characters": ["Captain Fuzz"]},
        "scopes": ["prompts"], "territories": ["*"],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/v1/generations", headers=user, json={"prompt": "a paper boat", "seed": 1})
    assert r.status_code == 202, r.text
    r = client.post("/v1/reports", headers=user, json={
        "target": {"kind": "asset", "id": "fuzz-asset-1"}, "category": "hate_speech",
        "explanation": "Shows a real person in a degrading scene", "good_faith": True,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    drain(services, SEEDED)
    r = client.post(f"/v1/cases/{case_id}/claim", headers=admin)
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/cases/{case_id}/actions", headers=admin, json={
        "kind": "remove_asset", "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "ground_reference": "Terms of Service 4.1", "ground_explanation": "Degrading content.",
        "facts": "The video shows a real person in a degrading scene.",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    drain(services, SEEDED)
    r = client.post("/v1/appeals", headers=user, json={
        "decision_id": r.json()["action_id"], "statement": "This was a parody, please look again.",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    drain(services, SEEDED)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(
    request: pytest.FixtureRequest, make_services: Callable[..., Services]
) -> tuple[FastAPI, dict[str, Any]]:
    """The app on a seeded deployment (both databases: their integer widths differ)."""
    services = make_services(request.param)
    app = create_app(services)
    _, admin = make_principal(services, "admin", name="Fuzz admin")
    user_id, user = make_principal(services, "user", name="Fuzz user")
    with TestClient(app, raise_server_exceptions=False) as client:
        _seed(client, services, user_id, user, admin)
    return app, {"admin": admin, "user": user}


def test_the_app_keeps_its_openapi_contract(live: tuple[FastAPI, dict[str, Any]]) -> None:
    app, tokens = live
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        result.ok() for result in schema.include(method=["GET", "POST"]).get_all_operations()
    ]
    assert len(operations) > 40, [op.label for op in operations]
    ran = 0
    failures: dict[str, str] = {}
    for operation in operations:
        has_input = any(
            len(part) for part in (operation.path_parameters, operation.query, operation.body)
        )
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not has_input:
                continue  # nothing to get wrong (/healthz)

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case: Any) -> None:
                nonlocal ran
                for headers in tokens.values():
                    ran += 1
                    response = case.call(headers=headers)
                    case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                exercise()
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported below
                failures[f"{operation.label} [{mode.value}]"] = str(exc)[:1500]
    print(f"schemathesis: {ran} cases over {len(operations)} operations, {len(failures)} failed")
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
