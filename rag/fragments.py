"""Fragments become sentences: «14,000 جندي.» says nothing of what the number counts.

The small model often answers a count with the number and a noun. When such a fragment is
backed by its passage, it is replaced by the passage's clause that states its numbers,
verbatim, so the reader sees what the figure is: «ليصل العدد الإجمالي إلى حوالي 14,000 جندي».
"""
from __future__ import annotations

from rag.arabic import extract_numbers, numbers_match, split_clauses, split_sentences, tokenize

MAX_FRAGMENT_WORDS = 4


def is_fragment(text: str) -> bool:
    """A few words around a number, or a sentence that opens with one: no statement of its own."""
    tokens = tokenize(text)
    words = [t for t in tokens if not t[0].isdigit()]
    return bool(tokens) and (len(words) <= MAX_FRAGMENT_WORDS or tokens[0][0].isdigit())


def completed(fragment: str, passage: str) -> str | None:
    """The clause of `passage` that states every number of `fragment`, if longer than the fragment."""
    numbers = extract_numbers(fragment)
    if not numbers:
        return None
    for s_start, s_end in split_sentences(passage):
        for start, end in split_clauses(passage, s_start, s_end):
            clause = passage[start:end].rstrip("،,؛;")
            found = extract_numbers(clause)
            if all(any(numbers_match(n, m) for m in found) for n in numbers) and len(clause) > len(fragment):
                return clause
    return None
