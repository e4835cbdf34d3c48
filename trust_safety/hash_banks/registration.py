"""What the hash banks contribute to the trust_safety module."""

from __future__ import annotations

from typing import Any

from trust_safety.hash_banks.projection import HashBankProjection
from trust_safety.hash_banks.router import router

ROUTERS = [router]
PROJECTIONS: dict[str, Any] = {"hash-banks": lambda services: HashBankProjection()}
MODEL_MODULES = ["trust_safety.hash_banks.models", "trust_safety.hash_banks.events"]
