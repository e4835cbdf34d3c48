"""What reverse search provides to other domains: the ``fingerprint_search`` port.

Verification (provenance) adds fingerprint matches to its report through it; the provenance
check is audited by its own ``ProvenanceChecked`` event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.services import Services


class FileMatches:
    """The ``fingerprint_search`` port as reverse search provides it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def find_matches(self, path: Path, max_results: int = 5) -> list[dict[str, Any]]:
        """Generations whose frames ``path`` copies, best first, each with its record."""
        from reverse_search.service import InvestigatorSearch

        return [
            h.to_dict()
            for h in InvestigatorSearch(self.services).matches_for_file(Path(path), max_results)
        ]
