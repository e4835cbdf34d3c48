"""What the gate's end-to-end tests share: the people who use it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.utils import make_principal
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER


@pytest.fixture
def people(services: Any) -> dict[str, tuple[str, dict[str, str]]]:
    """Principal id and headers of two users, a reviewer, an admin and a rights holder."""
    services.override(OPTOUT_EMBEDDER, None)  # lexical opt-out matching is enough here
    return {
        "ada": make_principal(services, "user", name="ada"),
        "bo": make_principal(services, "user", name="bo"),
        "rev": make_principal(services, "reviewer", name="rev"),
        "admin": make_principal(services, "admin", name="admin"),
        "holder": make_principal(services, "rights_holder", name="holder"),
    }
