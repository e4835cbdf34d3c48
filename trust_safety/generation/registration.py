"""The generation gate's parts (requests, prompt moderation, uploads), for ``trust_safety.module``."""

from __future__ import annotations

from typing import Any

from trust_safety.generation.filter_review import PromptFilterReview
from trust_safety.generation.gate import PromptModeration
from trust_safety.generation.projection import GenerationRequests
from trust_safety.generation.router import admin_router, router
from trust_safety.uploads.router import router as uploads_router

ROUTERS = [router, admin_router, uploads_router]
PROJECTIONS: dict[str, Any] = {"generation-requests": lambda services: GenerationRequests()}
PROCESSORS: dict[str, Any] = {
    "prompt-moderation": lambda services: PromptModeration(services),
    # the LLM filter's reading of referred decisions (idle unless one is configured)
    "prompt-filter-review": lambda services: PromptFilterReview(services),
}
MODEL_MODULES = [
    "trust_safety.generation.models",
    "trust_safety.generation.events",
    "trust_safety.uploads.events",
]
