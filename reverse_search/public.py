"""What other domains may import from reverse search (read-only).

Verification (provenance) adds fingerprint matches to its report with ``find_matches``; the
provenance check is audited by its own ``ProvenanceChecked`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def find_matches(services: Any, path: Path, max_results: int = 5) -> list[dict[str, Any]]:
    """Generations whose frames ``path`` copies, best first, each with its record."""
    from reverse_search.service import InvestigatorSearch

    return [
        h.to_dict() for h in InvestigatorSearch(services).matches_for_file(Path(path), max_results)
    ]
