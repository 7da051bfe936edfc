"""What an English question shares with Arabic articles: its names (transliterated), its numbers
and its months. Its other words match nothing in Arabic text, so BM25 cannot rank chunks for it;
these cues can, and they tell the sentences of a chunk apart where the cross-language embedding
sees them all as alike.
"""
from __future__ import annotations

import calendar
import math
from dataclasses import dataclass

from rag.arabic import detect_language, extract_numbers, numbers_match, plain_number
from rag.names import name_words, writes_name
from rag.relevance import months_named
from rag.types import Chunk


# Why an English answer is withheld when its passage lacks some of the question's cues, and the reply
# when nothing else answers: what the question asks about that the passage does not mention.
UNHELD_REASON = "the passage of the copied words does not give the question's"
UNHELD_REPLY = "The passage with an answer does not mention {unheld}, which the question asks about."


@dataclass(frozen=True)
class EnglishCues:
    names: tuple[str, ...]
    numbers: tuple[float, ...]
    months: frozenset[int]

    @classmethod
    def of(cls, question: str) -> EnglishCues:
        """The cues of an English question; none for a question in another language."""
        if detect_language(question) != "en":
            return cls((), (), frozenset())
        return cls(tuple(dict.fromkeys(name_words(question))), tuple(extract_numbers(question)), frozenset(months_named(question)))

    def __len__(self) -> int:
        return len(self.names) + len(self.numbers) + len(self.months)

    def held(self, text: str) -> list[bool]:
        """For each cue, in order (names, numbers, months), whether `text` holds it."""
        numbers = extract_numbers(text)
        months = months_named(text)
        return (
            [writes_name(name, text) for name in self.names]
            + [any(numbers_match(n, m) for m in numbers) for n in self.numbers]
            + [month in months for month in sorted(self.months)]
        )

    def unheld_dates_and_numbers(self, text: str) -> list[str]:
        """The question's numbers and months that `text` does not hold ("March", "2025"): an
        answer's passage without them is about another time or figure than the one asked about."""
        numbers, months = extract_numbers(text), months_named(text)
        return [plain_number(n) for n in self.numbers if not any(numbers_match(n, m) for m in numbers)] + [
            calendar.month_name[month] for month in sorted(self.months - months)
        ]

    def share(self, text: str) -> float:
        """The share of the cues `text` holds (0 when there are none)."""
        return sum(self.held(text)) / len(self) if len(self) else 0.0


def rank_by_cues(cues: EnglishCues, chunks: list[Chunk]) -> list[Chunk]:
    """The chunks that hold any cue, most first, each cue weighted by how few of these chunks hold
    it ("Kim" is in most of them, "Rudenko" in one); ties keep the given order."""
    if not len(cues) or not chunks:
        return []
    held = [cues.held(chunk.text) for chunk in chunks]
    holders = [sum(column) for column in zip(*held)]
    weights = [math.log((len(chunks) + 1) / (count + 0.5)) for count in holders]
    scores = [sum(w for w, h in zip(weights, row) if h) for row in held]
    ranked = sorted(range(len(chunks)), key=lambda i: -scores[i])
    return [chunks[i] for i in ranked if scores[i] > 0]
