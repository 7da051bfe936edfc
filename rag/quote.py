"""The "quote" answer style: the passages the model points at, shown in the article's own words.

A 1.5B model writes unreliable sentences (wrong figures, fragments, invented names) but
finds the passage that states an answer well. So it only copies the answer's words and lists
the passages that state them (rag.prompt.QUOTE_SYSTEM); the answer is those passages'
sentences, verbatim. The copied words decide between the passages: a listed passage that
does not contain them is dropped, and when no listed passage does, the shown passage that
contains them is used instead.
"""
from __future__ import annotations

import re

from rag.arabic import STOPWORDS, content_terms, detect_language, extract_numbers, normalize, numbers_match
from rag.draft import QuoteDraft
from rag.names import arabic_skeleton, unmatched_names
from rag.relevance import months_named
from rag.types import Citation, Passage, Sentence

MAX_QUOTED = 3
QUOTED_REASON = "the passage's own words"


def holds_answer(passage: str, answer: str) -> bool:
    """True when `passage` contains the copied answer: as written (normalised); or every number of
    it and every content word (an Arabic answer), or every month and name (an answer the model wrote
    in English: "June 2024", "Gerasimov", "170 mm")."""
    wanted, text = _plain(answer), _plain(passage)
    if not wanted:
        return False
    if wanted in text:
        return True
    numbers, found = extract_numbers(answer), extract_numbers(passage)
    if not all(any(numbers_match(n, m) for m in found) for n in numbers):
        return False
    if detect_language(answer) == "ar":
        terms = content_terms(answer)
        if terms <= content_terms(passage):
            return bool(numbers or terms)
        # a name spelt another way: «بيونج يانج» for «بيونغ يانغ»
        return _sounds(answer) <= _sounds(passage)
    months = months_named(answer)
    if not months <= months_named(passage):
        return False
    names = re.findall(r"\b[A-Z][A-Za-z'’-]+", answer)
    return bool(numbers or months or names) and not unmatched_names(answer, passage)


def quoted_sentences(draft: QuoteDraft, passages: list[Passage]) -> list[Sentence]:
    """The sentences of the passages that state the answer, each citing its passage."""
    texts = {p.number: p.text for p in passages}
    listed = [n for n in draft.passages if n in texts]
    holding = [n for n in texts if holds_answer(texts[n], draft.answer)] if draft.answer else []
    if holding:
        listed = [n for n in listed if n in holding] or holding[:1]
    return [Sentence(texts[n], [Citation(n, True, QUOTED_REASON)]) for n in listed[:MAX_QUOTED]]


def _sounds(text: str) -> set[str]:
    """Consonant skeletons of the Arabic words of `text`, as rag.names compares transliterations."""
    return {arabic_skeleton(word) for word in re.findall(r"[\u0621-\u064A]+", normalize(text)) if word not in STOPWORDS}


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", normalize(text)))

