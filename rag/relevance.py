"""Does an answer sentence answer the question that was asked?

A sentence is shown only when it gives an answer of the asked type (a count needs a number
the question did not give, a date needs a date) and the passage it cites is about the
question's focus. "4,000 killed or wounded" cited for "how many were captured?" fails the
second test; "the Western powers will meet in Paris" for "on what day?" fails the first.
"""
from __future__ import annotations

import re

from rag.answerability import MAX_MISSING_SHARE, LexicalStatistics, coverage
from rag.arabic import detect_language, extract_numbers, normalize, numbers_match
from rag.question import COUNT, DATE, Question

# A cited passage must hold the question's focus terms that the index knows, by this share of their weight.
MAX_PASSAGE_MISSING_SHARE = 0.7
assert MAX_PASSAGE_MISSING_SHARE <= MAX_MISSING_SHARE

_MONTHS = (
    "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر "
    "كانون شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DAYS = (
    "السبت الاحد الاثنين الثلاثاء الاربعاء الخميس الجمعه "
    "saturday sunday monday tuesday wednesday thursday friday"
)
_SEASONS = "الخريف الربيع الصيف الشتاء autumn fall spring summer winter امس yesterday"
_DATE_WORDS = frozenset(f"{_MONTHS} {_DAYS} {_SEASONS}".split())
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def states_a_date(text: str) -> bool:
    normalized = normalize(text)
    words = {word.removeprefix("ال").removeprefix("و") for word in re.findall(r"[^\W\d_]+", normalized)}
    words |= set(re.findall(r"[^\W\d_]+", normalized))
    return bool(_YEAR.search(normalized) or words & _DATE_WORDS)


def new_numbers(text: str, question: Question) -> list[float]:
    asked = [float(n) for n in question.numbers]
    return [n for n in extract_numbers(text) if not any(numbers_match(n, m) for m in asked)]


def gives_answer_type(text: str, question: Question) -> bool:
    if question.asks == COUNT:
        return bool(new_numbers(text, question))
    if question.asks == DATE:
        return states_a_date(text)
    return True


def irrelevance(sentence: str, cited_passages: list[str], question: Question, statistics: LexicalStatistics) -> str:
    """Why the sentence does not answer the question, or "" when it does."""
    if question.language == "en" and detect_language(sentence) != "en":
        return "not written in English"
    if not gives_answer_type(sentence, question):
        return f"gives no {question.asks}"
    if question.language != "ar":
        return ""  # the focus is in English, the passages in Arabic: the cross-language check decides
    # The passages alone: the sentence itself may echo the question's words.
    found = coverage(question, cited_passages, statistics, known_only=True)
    if found.missing_share >= MAX_PASSAGE_MISSING_SHARE:
        return f"cited passage is not about {', '.join(question.words.get(t, t) for t in found.missing)}"
    return ""
