"""Casualty figures that count the killed and the wounded together.

"About 4,000 North Korean soldiers were killed or wounded" does not say how many were killed.
A count question that asks for one of the two ("how many were killed?", «كم قتلوا، من دون
احتساب الجرحى؟») is not answered by a clause that gives one figure for both: the answer is
withheld, and the reply says what the articles count and what they do not. A question that
names both («بين قتيل وجريح», "killed or wounded"), or neither ("casualties", «خسائر»), is
answered by such a clause as before.
"""
from __future__ import annotations

import re

from rag.arabic import normalize

KILLED, WOUNDED = "killed", "wounded"

# Stems of the words that name each kind, normalised (أ->ا, ى->ي, ة->ه), after any leading و, ف, ب, ل or ال.
_STEMS = {
    KILLED: ("قتل", "قتيل", "مقتل", "killed", "died", "dead", "death", "fatalit"),
    WOUNDED: ("اصيب", "اصابه", "اصابات", "جرح", "جريح", "مصاب", "wounded", "injur"),
}
# Words after which a kind is left out of the count: «من دون احتساب الجرحى», "not counting the wounded".
_EXCLUDING = frozenset("دون بدون باستثناء استثناء عدا excluding without except not".split())
_EXCLUDED_WITHIN = 3  # words after the excluding word
_JOINED_WITHIN = 3  # «قتل أو أصيب», «بين قتيل وجريح», "killed or wounded": two kinds this close share one figure
_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")

_REPLIES = {
    "ar": {KILLED: "تذكر المقالات عدد القتلى والجرحى معاً، لكنها لا تذكر عدد القتلى وحدهم.",
           WOUNDED: "تذكر المقالات عدد القتلى والجرحى معاً، لكنها لا تذكر عدد الجرحى وحدهم."},
    "en": {KILLED: "The articles give the killed and the wounded together, but not the killed alone.",
           WOUNDED: "The articles give the killed and the wounded together, but not the wounded alone."},
}
REASON = "the figure counts the killed and the wounded together"


def _kind(word: str) -> str | None:
    bare = [word] + [word[len(p):] for p in _PREFIXES if word.startswith(p) and len(word) - len(p) >= 3]
    for kind, stems in _STEMS.items():
        if any(w.startswith(stem) for w in bare for stem in stems):
            return kind
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", normalize(text))


def kinds_asked(question: str) -> frozenset[str]:
    """The kinds of casualty a question names, without those it leaves out."""
    words = _words(question)
    named, excluded = set(), set()
    for i, word in enumerate(words):
        kind = _kind(word)
        if kind is None:
            continue
        before = words[max(0, i - _EXCLUDED_WITHIN) : i]
        (excluded if _EXCLUDING & set(before) else named).add(kind)
    return frozenset(named - excluded)


def _joined(words: list[str]) -> bool:
    """True when a killed word and a wounded word stand close, with no number between them."""
    kinds = [(i, _kind(word)) for i, word in enumerate(words)]
    killed = [i for i, kind in kinds if kind == KILLED]
    wounded = [i for i, kind in kinds if kind == WOUNDED]
    return any(
        abs(k - w) <= _JOINED_WITHIN and not any(ch.isdigit() for word in words[min(k, w) + 1 : max(k, w)] for ch in word)
        for k in killed
        for w in wounded
    )


def counted_together(asked: frozenset[str], clauses: list[str]) -> bool:
    """True when the question asks for one kind and every clause that states its figure counts
    that kind together with the other. `clauses`: the clauses of the cited passages that state
    one of the answer's numbers. A clause that names the asked kind on its own answers it."""
    if len(asked) != 1 or not clauses:
        return False
    together = False
    for clause in clauses:
        words = _words(clause)
        if _joined(words):
            together = True
        elif any(_kind(word) in asked for word in words):
            return False
    return together


def reply(asked: frozenset[str], language: str) -> str:
    """The decline that says what the articles count and what they do not."""
    (kind,) = asked
    return _REPLIES[language][kind]
