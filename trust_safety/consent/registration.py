"""The consent ledger's parts, collected for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.consent.age import router as age_router
from trust_safety.consent.projection import ConsentLedger
from trust_safety.consent.router import router
from trust_safety.consent.service import destroy_templates_of

ROUTERS = [router, age_router]
# The erasure of a person's data deletes their cameo's face template (core/privacy.py).
ERASURE = [destroy_templates_of]
PROJECTIONS: dict[str, Any] = {"consent-ledger": lambda services: ConsentLedger()}
MODEL_MODULES = [
    "trust_safety.consent.models",
    "trust_safety.consent.facts",
    "trust_safety.consent.templates",
]
