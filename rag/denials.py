"""A claim shown with its article's denial of it.

«أعلنت روسيا، السبت، أن قواتها استعادت بالكامل منطقة كورسك …» is followed in its article by
«ونفت السلطات الأوكرانية هذا الادعاء.» Shown alone, the claim reads as the article's finding.
So when the sentence right after a shown sentence, in the same chunk, opens with a denial
(«نفت», «نفى», "denied", "dismissed"), it is shown too, quoted with its own citation. Found in
code from the article's words; the model is not asked.
"""
from __future__ import annotations

import re

from rag.arabic import normalize, split_sentences
from rag.types import Chunk

# Denial verbs, normalised (ى->ي): «نفى», «نفت», «ينفي», «تنفي», «نفوا», «ينفون», «كذبت»; English.
_DENIES = re.compile(
    r"^(?:و|ف)?(?:نفي|نفت|ينفي|تنفي|نفوا|ينفون|ينفيان|تنفيان|كذب|كذبت|يكذب|تكذب)$"
    r"|^(?:denied|denies|deny|dismissed|dismisses|rejected|rejects|refuted|refutes)$"
)
OPENS_WITHIN_WORDS = 4  # «ونفت السلطات الأوكرانية …», "But Kyiv denied …", "Ukrainian officials have denied …"
REASON = "its article denies the sentence before it: quoted from this passage"


def denies(sentence: str) -> bool:
    """True when a denial verb is among the sentence's first words."""
    words = re.findall(r"[^\W\d_]+", normalize(sentence))[:OPENS_WITHIN_WORDS]
    return any(_DENIES.match(word) for word in words)


def denial_after(chunk: Chunk, start: int, end: int) -> tuple[int, int] | None:
    """The article offsets of the sentence right after article[start:end] in the chunk, when it
    denies; else None."""
    local_end = end - chunk.start
    for s_start, s_end in split_sentences(chunk.text):
        if s_start >= local_end:
            return (chunk.start + s_start, chunk.start + s_end) if denies(chunk.text[s_start:s_end]) else None
    return None
