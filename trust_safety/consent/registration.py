"""The consent ledger's parts, collected for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.consent.projection import ConsentLedger
from trust_safety.consent.router import router

ROUTERS = [router]
PROJECTIONS: dict[str, Any] = {"consent-ledger": lambda services: ConsentLedger()}
MODEL_MODULES = [
    "trust_safety.consent.models",
    "trust_safety.consent.facts",
    "trust_safety.consent.templates",
]
