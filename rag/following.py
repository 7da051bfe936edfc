"""The sentence that follows a shown one in its article, shown with it when it denies or continues it.

- **A denial.** «أعلنت روسيا، السبت، أن قواتها استعادت بالكامل منطقة كورسك …» is followed in its
  article by «ونفت السلطات الأوكرانية هذا الادعاء.» Shown alone, the claim reads as the article's
  finding, so the denial is shown with it, whatever was asked.
- **A continuation.** Asked what North Korea got for its troops, the model picks «… حصلت على صواريخ
  مضادة للطائرات ومعدات دفاع جوي أخرى …»; the article goes on «وأضاف مستشار الأمن القومي …: أعلنت
  روسيا عن نيتها دعم كوريا الشمالية في مجال التقنيات المتعلقة بالأقمار الصناعية». For a question that
  asks for an explanation, a list or a yes or no (not one figure, date, name or place), the next
  sentence is shown when it opens as the speaker or the list going on («وأضاف», «وأوضحت», «وتشمل»,
  «كما», "He added").

Either is the next sentence of the same chunk, quoted with its own citation; found in code from
the article's words, without asking the model.
"""
from __future__ import annotations

import re

from rag.arabic import normalize, split_sentences
from rag.question import DESCRIPTION, OTHER, YES_NO, Question
from rag.types import Chunk

DENIAL, CONTINUATION = "denial", "continuation"

# The words that open each kind, normalised (أ->ا, ى->ي, ة->ه), with a leading و or ف.
_OPENING = {
    # «نفى», «نفت», «ينفي», «تنفي», «نفوا», «كذبت»; not «تنفيذ».
    DENIAL: re.compile(
        r"^(?:و|ف)?(?:نفي|نفت|ينفي|تنفي|نفوا|ينفون|ينفيان|تنفيان|كذب|كذبت|يكذب|تكذب)$"
        r"|^(?:denied|denies|deny|dismissed|dismisses|rejected|rejects|refuted|refutes)$"
    ),
    # The speaker goes on («وأضاف», «وتابعت», «وأوضح», «وأشارت»), a list goes on («وتشمل»), or "also".
    CONTINUATION: re.compile(
        r"^(?:و|ف)(?:اضاف|اضافت|تابع|تابعت|اوضح|اوضحت|اشار|اشارت|تشمل|يشمل|شملت|شمل)$|^كما$"
        r"|^(?:added|adding|also|moreover|furthermore)$"
    ),
}
OPENS_WITHIN_WORDS = 4  # «ونفت السلطات …», "Ukrainian officials have denied …", "The official also said …"
REASONS = {
    DENIAL: "its article denies the sentence before it: quoted from this passage",
    CONTINUATION: "continues the sentence before it in its article: quoted from this passage",
}
# The questions whose answer may run on into the next sentence.
EXPLAINED = (DESCRIPTION, OTHER, YES_NO)


def opening(sentence: str) -> str | None:
    """DENIAL or CONTINUATION when one of the sentence's first words opens it as one, else None."""
    words = re.findall(r"[^\W\d_]+", normalize(sentence))[:OPENS_WITHIN_WORDS]
    for kind, pattern in _OPENING.items():
        if any(pattern.match(word) for word in words):
            return kind
    return None


def following(chunk: Chunk, start: int, end: int, question: Question) -> tuple[str, int, int] | None:
    """(kind, start, end), in article offsets, of the sentence right after article[start:end] in
    the chunk, when it denies it, or continues it and the question asks for an explanation."""
    local_end = end - chunk.start
    for s_start, s_end in split_sentences(chunk.text):
        if s_start >= local_end:
            kind = opening(chunk.text[s_start:s_end])
            if kind == DENIAL or kind == CONTINUATION and question.asks in EXPLAINED:
                return kind, chunk.start + s_start, chunk.start + s_end
            return None
    return None
