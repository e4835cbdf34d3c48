"""A follow graph for the in-memory consent ledger's tests (the feed owns the real one)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class InMemoryFollowGraph:
    """The ``follow_graph`` port's question over a set of (follower, followed) pairs."""

    follows: set[tuple[str, str]] = field(default_factory=set)

    def follow(self, follower: str, followed: str) -> None:
        self.follows.add((follower, followed))

    def unfollow(self, follower: str, followed: str) -> None:
        self.follows.discard((follower, followed))

    def are_mutual_follows(self, a: str, b: str) -> bool:
        return (a, b) in self.follows and (b, a) in self.follows
