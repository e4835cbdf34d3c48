"""One writing domain per stream category, every reaction at a stated version, and the
generation histories written before the streams were split still signed and served."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.generation import GENERATION, OUTPUT, PROVENANCE, RENDER
from core.events import REGISTRY, SYSTEM_ACTOR, RecordedEvent, stream_id
from core.modules import import_all_models
from core.services import Services
from core.store import EventStore
from tests.generator.helpers import request_and_approve
from tests.trust_safety.consent.foreign_events import foreign
from tests.utils import drain, make_principal

# Contracts are written by one domain each; a contract module may hold several categories.
CONTRACT_WRITERS = {
    GENERATION: "trust_safety",
    RENDER: "generator",
    OUTPUT: "trust_safety",
    PROVENANCE: "provenance",
    "asset": "trust_safety",
    "consent": "trust_safety",
    "enforcement": "trust_safety",
    "feed": "feed",
}
# Each audit stream is one record under a fresh id, appended once by the domain that made it
# (a search, a provenance check, a reviewer unblurring a hash match): a shared category,
# never a shared stream.
SHARED_CATEGORIES = {"audit": ["provenance", "reverse_search", "trust_safety"]}
PROCESSOR_STREAMS = (RENDER, OUTPUT, PROVENANCE)
SMALL = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 12}
PIPELINE = ["generator", "output-moderation", "provenance-signing", "generation-jobs"]


def _writer(module: str, category: str) -> str:
    package = module.split(".", 1)[0]
    if package != "contracts":
        return package
    assert category in CONTRACT_WRITERS, f"{module} declares {category!r}: name its writer"
    return CONTRACT_WRITERS[category]


def test_each_stream_category_is_declared_by_one_domain() -> None:
    import_all_models()
    writers: dict[str, set[str]] = defaultdict(set)
    for name in REGISTRY.names():
        info = REGISTRY.info(name)
        writers[info.category].add(_writer(info.payload_class.__module__, info.category))
    shared = {category: sorted(w) for category, w in writers.items() if len(w) != 1}
    assert shared == SHARED_CATEGORIES
    assert {GENERATION, RENDER, OUTPUT, PROVENANCE} <= set(writers)
    assert {REGISTRY.info(n).category for n in ("GenerationStarted", "GenerationCompleted")} == {
        RENDER
    }


@pytest.fixture
def appends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int | None]]]:
    """(stream id, expected version) of every append, as the store was asked for it."""
    seen: list[tuple[str, int | None]] = []
    original = EventStore.append

    def recording(self: EventStore, *args: Any, **kw: Any) -> Any:
        # only the call that writes: one made without a session comes back with one
        if kw.get("session") is not None:
            stream = args[0] if args else kw["stream_id"]
            seen.append((stream, kw.get("expected_version")))
        return original(self, *args, **kw)

    monkeypatch.setattr(EventStore, "append", recording)
    yield seen


def test_the_processors_append_to_their_own_streams_at_a_stated_version(
    services: Services, appends: list[tuple[str, int | None]]
) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-own", requester, "a paper boat on a pond", seed=5, **SMALL)
    drain(services, PIPELINE)
    written = [(s, v) for s, v in appends if s.split("-", 1)[0] in PROCESSOR_STREAMS]
    assert written == [
        ("render-g-own", 0),
        ("render-g-own", 1),
        ("output-g-own", 0),
        ("provenance-g-own", 0),
    ], written
    gate = [e.type for e in services.store.read_stream(stream_id(GENERATION, "g-own"))]
    assert gate == ["GenerationRequested", "GenerationApproved"]


def _legacy(services: Services, generation_id: str, events: list[RecordedEvent]) -> None:
    """Re-write ``events`` as they were stored before the split: on the generation stream."""
    for e in events:
        payload = {**e.payload, "generation_id": generation_id}
        services.store.append(
            stream_id(GENERATION, generation_id),
            [foreign(e.type, GENERATION, **payload)],
            expected_version=None,
            actor=SYSTEM_ACTOR,
        )


def test_a_legacy_history_on_the_generation_stream_still_signs_and_serves(
    services: Services, client: Any
) -> None:
    requester, headers = make_principal(services, "user")
    request_and_approve(services, "g-new", requester, "a paper boat on a pond", seed=5, **SMALL)
    drain(services, ["generator"])
    render = services.store.read_stream(stream_id(RENDER, "g-new"))
    gate = services.store.read_stream(stream_id(GENERATION, "g-new"))
    # The generator is not run on the legacy one: its render is already on the stream.
    _legacy(services, "g-old", [*gate, *render])
    drain(services, PIPELINE)

    signed = services.store.read_stream(stream_id(PROVENANCE, "g-old"))
    assert [e.type for e in signed] == ["AssetSigned", "AssetPublished"]
    assert signed[0].payload["requester_id"] == requester
    assert services.store.read_stream(stream_id(RENDER, "g-old")) == []
    assert [e.type for e in services.store.read_stream(stream_id(OUTPUT, "g-old"))] == [
        "OutputModerated"
    ]
    status = client.get("/v1/generations/g-old/job", headers=headers)
    assert status.status_code == 200 and status.json()["status"] == "published"
    assert client.get("/v1/generations/g-old/download", headers=headers).status_code == 200
