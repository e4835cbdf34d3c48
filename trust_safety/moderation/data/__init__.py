"""The moderation data shipped in the wheel: lists, exemplars and the policy, as JSON."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def shipped_json(name: str) -> Any:
    """One shipped file, parsed; its loader validates the shape (InvalidModerationData)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
