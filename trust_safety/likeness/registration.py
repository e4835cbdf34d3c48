"""The likeness matches' parts (the owner's view, its read model), for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.likeness.owner_view import LikenessMatches
from trust_safety.likeness.router import router

ROUTERS = [router]
PROJECTIONS: dict[str, Any] = {"likeness-matches": lambda services: LikenessMatches()}
MODEL_MODULES = ["trust_safety.likeness.matches", "trust_safety.likeness.owner_view"]
