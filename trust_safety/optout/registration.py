"""The opt-out registry's parts, collected for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.optout.projection import OptOutRegistry
from trust_safety.optout.router import router

ROUTERS = [router]
PROJECTIONS: dict[str, Any] = {"optout-registry": lambda services: OptOutRegistry()}
MODEL_MODULES = ["trust_safety.optout.models", "trust_safety.optout.facts"]
