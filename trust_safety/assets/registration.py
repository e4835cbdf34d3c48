"""What the assets part registers in ``trust_safety/module.py``."""

from typing import Any

from trust_safety.assets.visibility import AssetDirectory, AssetVisibility

PROJECTIONS: dict[str, Any] = {"asset-directory": lambda services: AssetDirectory()}
PROCESSORS: dict[str, Any] = {"asset-visibility": lambda services: AssetVisibility(services)}
MODEL_MODULES = ["trust_safety.assets.models", "contracts.assets"]
