"""What output moderation contributes to the trust_safety module."""

from __future__ import annotations

from core.modules import ConsumerFactory
from trust_safety.output.processor import OutputModeration

PROCESSORS: dict[str, ConsumerFactory] = {
    "output-moderation": lambda services: OutputModeration(services)
}
MODEL_MODULES: list[str] = []
