"""What the feed provides to other domains through ports (contracts/ports.py).

:class:`FollowGraphReadModel` is the ``follow_graph`` port: the feed writes every follow, so
the consent ledger's mutual-follows audience asks the feed's read model instead of keeping a
copy of its own.
"""

from __future__ import annotations

from core.services import Services
from feed.queries import are_mutual_follows


class FollowGraphReadModel:
    """The ``follow_graph`` port over the feed projection's follow table."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def are_mutual_follows(self, a: str, b: str) -> bool:
        with self.services.read_sessions() as s:
            return are_mutual_follows(s, a, b)
