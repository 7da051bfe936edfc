"""The sentence that follows a shown one in its article, shown with it when it denies or continues it.

- **A denial.** «أعلنت روسيا، السبت، أن قواتها استعادت بالكامل منطقة كورسك …» is followed in its
  article by «ونفت السلطات الأوكرانية هذا الادعاء.» Shown alone, the claim reads as the article's
  finding, so the denial is shown with it, whatever was asked.
- **A continuation.** Asked what North Korea got for its troops, the model picks «… حصلت على صواريخ
  مضادة للطائرات ومعدات دفاع جوي أخرى …»; the article goes on «وأضاف مستشار الأمن القومي …: أعلنت
  روسيا عن نيتها دعم كوريا الشمالية في مجال التقنيات المتعلقة بالأقمار الصناعية». For a question that
  asks for an explanation, a list or a yes or no (not one figure, date, name or place), the next
  sentence is shown when it opens as the speaker going on («وأضاف», «وأوضحت», «كما», "He added").
- **A list.** «قال الكرملين إنه لن يحدث إلا بمجرد رفع عدد من البنوك الروسية.» names the banks only as
  "a number of"; its article goes on «وتشمل المطالب إلغاء العقوبات على بنك الدولة الزراعي
  Rosselkhozbank …». A sentence that opens as a list of what the one before it names («وتشمل»,
  "including") is shown for an explanation, a list or a yes or no, and for a question that asks for
  a person or a place, whose name is in that list.

Each is the next sentence of the same chunk, quoted with its own citation; found in code from
the article's words, without asking the model.
"""
from __future__ import annotations

import re

from rag.arabic import normalize, split_sentences
from rag.question import DESCRIPTION, OTHER, PERSON, PLACE, YES_NO, Question
from rag.types import Chunk

DENIAL, CONTINUATION, LIST = "denial", "continuation", "list"

# The words that open each kind, normalised (أ->ا, ى->ي, ة->ه), with a leading و or ف.
_OPENING = {
    # «نفى», «نفت», «ينفي», «تنفي», «نفوا», «كذبت»; not «تنفيذ».
    DENIAL: re.compile(
        r"^(?:و|ف)?(?:نفي|نفت|ينفي|تنفي|نفوا|ينفون|ينفيان|تنفيان|كذب|كذبت|يكذب|تكذب)$"
        r"|^(?:denied|denies|deny|dismissed|dismisses|rejected|rejects|refuted|refutes)$"
    ),
    # The speaker goes on («وأضاف», «وتابعت», «وأوضح», «وأشارت»), or "also".
    CONTINUATION: re.compile(
        r"^(?:و|ف)(?:اضاف|اضافت|تابع|تابعت|اوضح|اوضحت|اشار|اشارت)$|^كما$"
        r"|^(?:added|adding|also|moreover|furthermore)$"
    ),
    # A list goes on: «وتشمل المطالب …», «ومن بينها», "These include …".
    LIST: re.compile(r"^(?:و|ف)(?:تشمل|يشمل|شملت|شمل|بينها|بينهم)$|^(?:include|includes|included|including)$"),
}
OPENS_WITHIN_WORDS = 4  # «ونفت السلطات …», "Ukrainian officials have denied …", "The official also said …"
REASONS = {
    DENIAL: "its article denies the sentence before it: quoted from this passage",
    CONTINUATION: "continues the sentence before it in its article: quoted from this passage",
    LIST: "lists what the sentence before it names: quoted from this passage",
}
# The questions whose answer may run on into the next sentence, and those whose name may be in a list.
EXPLAINED = (DESCRIPTION, OTHER, YES_NO)
NAMED = (PERSON, PLACE)


def opening(sentence: str) -> str | None:
    """DENIAL, CONTINUATION or LIST when one of the sentence's first words opens it as one, else None."""
    words = re.findall(r"[^\W\d_]+", normalize(sentence))[:OPENS_WITHIN_WORDS]
    for kind, pattern in _OPENING.items():
        if any(pattern.match(word) for word in words):
            return kind
    return None


def following(chunk: Chunk, start: int, end: int, question: Question) -> tuple[str, int, int] | None:
    """(kind, start, end), in article offsets, of the sentence right after article[start:end] in
    the chunk, when it denies it, continues it and the question asks for an explanation, or lists
    what it names and the question asks for an explanation or a name."""
    local_end = end - chunk.start
    for s_start, s_end in split_sentences(chunk.text):
        if s_start >= local_end:
            kind = opening(chunk.text[s_start:s_end])
            shown = (
                kind == DENIAL
                or kind == CONTINUATION and question.asks in EXPLAINED
                or kind == LIST and question.asks in EXPLAINED + NAMED
            )
            return (kind, chunk.start + s_start, chunk.start + s_end) if shown else None
    return None
