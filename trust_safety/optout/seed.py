"""Load opt-out filings from a JSON document (bulk import, fixtures, benchmarks).

The document is ``{"optouts": [filing, ...]}`` where a filing has the fields of
``OptOutFiled`` with the term lists inline. Every filing goes through the same command
validation as one filed over the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.facts import OptOutFiled
from trust_safety.optout.registry import InMemoryOptOutRegistry, RecordedOptOutFact, file_optout

_TERM_FIELDS = ("works", "characters", "aliases", "misspellings", "descriptions")


def filings_from_document(document: Mapping[str, Any]) -> list[OptOutFiled]:
    items = document.get("optouts")
    if not isinstance(items, list):
        raise InvalidOptOut("an opt-out document needs an 'optouts' list")
    facts: list[OptOutFiled] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidOptOut(f"optouts[{index}] must be an object")
        optout_id = str(item.get("optout_id", ""))
        try:
            fact = file_optout(
                None,
                optout_id=optout_id,
                rights_holder_id=str(item.get("rights_holder_id", "")),
                rights_holder_name=str(item.get("rights_holder_name", "")),
                terms={k: item.get(k, []) for k in _TERM_FIELDS},
                scopes=item.get("scopes", []),
                territories=item.get("territories", []),
                reference_media=item.get("reference_media", []),
            )
        except InvalidOptOut as exc:
            raise InvalidOptOut(f"optouts[{index}] ({optout_id or 'no id'}): {exc.detail}") from exc
        if fact.optout_id in seen:
            raise InvalidOptOut(f"optouts[{index}]: duplicate optout_id {fact.optout_id}")
        seen.add(fact.optout_id)
        facts.append(fact)
    return facts


def registry_from_file(path: Path, *, filed_at: datetime | None = None) -> InMemoryOptOutRegistry:
    document = json.loads(path.read_text(encoding="utf-8"))
    registry = InMemoryOptOutRegistry()
    at = filed_at or datetime(2026, 1, 1, tzinfo=UTC)
    for fact in filings_from_document(document):
        registry.record(RecordedOptOutFact(fact, at, fact.rights_holder_id))
    return registry
