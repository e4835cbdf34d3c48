"""The cases domain's parts, collected for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.cases.appearances import AppearanceNotices
from trust_safety.cases.projections import (
    ActionsProjection,
    AppealsProjection,
    AssetFactsProjection,
    CaseQueueProjection,
    InboxProjection,
    OutputBlocksProjection,
)
from trust_safety.cases.router import router

ROUTERS = [router]
PROJECTIONS: dict[str, Any] = {
    "cases-queue": lambda services: CaseQueueProjection(),
    "cases-actions": lambda services: ActionsProjection(),
    "cases-appeals": lambda services: AppealsProjection(),
    "cases-inbox": lambda services: InboxProjection(),
    "cases-assets": lambda services: AssetFactsProjection(),
    "cases-output-blocks": lambda services: OutputBlocksProjection(),
}
PROCESSORS: dict[str, Any] = {
    "cases-appearance-notices": lambda services: AppearanceNotices(services),
}
MODEL_MODULES = ["trust_safety.cases.models", "trust_safety.cases.events"]
