"""Answerability: do the retrieved passages talk about what the question asks, or only around it?

The small model answers nearly everything, so the decision to decline is made here, in
code, from evidence that can be shown: the question's focus terms (rag.question), weighted
by how rare they are in the index (IDF), that no retrieved chunk contains. Terms are
compared by stem and, for Arabic, by a consonant skeleton, so that a broken plural or a
verb form still meets its noun ("الجنود" / "جندي", "قتلوا" / "قُتل").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from rag.arabic import analyze, skeleton, term_keys
from rag.draft import without_rendered_markers
from rag.question import Question, analyse

# Decline when the focus terms that no retrieved chunk contains carry at least this share of
# the question's IDF weight. Calibrated on the seeds gold set: answerable questions miss up to
# 0.73 (paraphrased verbs), questions on a topic the articles lack miss 0.75 and more.
MAX_MISSING_SHARE = 0.75


class LexicalStatistics(Protocol):
    """How many chunks of the index use each term skeleton (rag.lexical.LexicalIndex keeps them)."""

    @property
    def documents(self) -> int: ...

    def frequency(self, key: str) -> int: ...


def idf(statistics: LexicalStatistics, term: str) -> float:
    return math.log((statistics.documents + 1) / (statistics.frequency(skeleton(term)) + 0.5))


# How many words of the last answer a follow-up is searched with: a name's two or three words.
TELLING_WORDS = 3


def telling_words(statistics: LexicalStatistics, answer: str, count: int = TELLING_WORDS) -> list[str]:
    """The `count` words of an answer that the fewest chunks use, as written: what it found («فاليري
    جيراسيموف», «كو بيونجسام») rather than what it shares with every article («القوات», «الكورية»).
    Words no chunk uses (an English answer's, a typo) come last, in the answer's order."""
    asked = analyse(without_rendered_markers(answer))

    def rarity(term: str) -> float:
        return idf(statistics, term) if statistics.frequency(skeleton(term)) else -1.0

    ranked = sorted(asked.focus, key=rarity, reverse=True)
    return [asked.words[term] for term in ranked[:count]]


@dataclass
class Coverage:
    """Which focus terms the retrieved chunks contain, and the verdict."""

    found: list[str]  # focus terms some retrieved chunk contains
    missing: list[str]  # focus terms none contains
    missing_share: float  # share of the focus's IDF weight that is missing
    unknown: list[str]  # missing terms that no chunk of the whole index contains
    answerable: bool

    def reason(self) -> str:
        if self.answerable:
            return f"focus covered ({1 - self.missing_share:.0%} of its weight)"
        if self.unknown:
            return f"not in any article: {', '.join(self.unknown)}"
        return f"missing from the passages: {', '.join(self.missing)} ({self.missing_share:.0%} of the focus weight)"


_CLITICS = "لبكوف"  # one-letter prefixes the analyser keeps: "لكيم", "وبيونغ"
_MIN_KEY = 3


def _variants(term: str) -> list[str]:
    key = skeleton(term)
    if key[:1] in _CLITICS and len(key) > _MIN_KEY:
        return [key, key[1:]]
    return [key]


def contains_term(keys: set[str], term: str) -> bool:
    """True when `keys` has the term's skeleton, or one that extends it or that it extends
    ("امر" / "امرك": the stemmer cuts "الأمريكية" and "أمريكياً" differently)."""
    for variant in _variants(term):
        if variant in keys:
            return True
        if len(variant) >= _MIN_KEY and any(
            len(key) >= _MIN_KEY and (key.startswith(variant) or variant.startswith(key)) for key in keys
        ):
            return True
    return False


# News names a government by its capital: «أكدت واشنطن وسيول» is «أكدت الولايات المتحدة وكوريا
# الجنوبية». A text that names a capital also names its country for the focus, and the reverse.
_CAPITALS = {
    "واشنطن": "الولايات المتحدة", "سيول": "كوريا الجنوبية", "بيونغ يانغ": "كوريا الشمالية",
    "بيونج يانج": "كوريا الشمالية", "موسكو": "روسيا", "كييف": "أوكرانيا", "بكين": "الصين",
    "طوكيو": "اليابان", "لندن": "بريطانيا", "باريس": "فرنسا", "برلين": "ألمانيا", "طهران": "إيران",
    "أنقرة": "تركيا", "القاهرة": "مصر", "الرياض": "السعودية", "دمشق": "سوريا", "بغداد": "العراق",
    "بيروت": "لبنان", "الدوحة": "قطر",
}
# News counts casualties under many words: a text that gives «إصابة», «قتلى», «جرحى» or «مصابين» gives
# «خسائر بشرية» too. One way only: a text on «خسائر» does not say how many were killed.
_CASUALTIES = ("إصابة", "قتلى", "جرحى", "مصابين")


def _keys(text: str) -> frozenset[str]:
    return frozenset(map(skeleton, analyze(text)))


_EQUIVALENTS = [
    *((_keys(named), _keys(meant)) for capital, country in _CAPITALS.items() for named, meant in ((capital, country), (country, capital))),
    *((_keys(word), _keys("خسائر بشرية")) for word in _CASUALTIES),
]


def with_equivalents(keys: set[str]) -> set[str]:
    """The keys, with those of what the keys also name: each capital's country and each country's
    capital, and losses for casualties."""
    return keys.union(*(other for named, other in _EQUIVALENTS if named <= keys))


def coverage(
    question: Question, chunk_texts: list[str], statistics: LexicalStatistics, *, known_only: bool = False
) -> Coverage:
    """How much of the question's focus the texts contain.

    `known_only` weighs only the focus terms some chunk of the index uses: for judging one
    passage, where a word no article uses says nothing about that passage.
    """
    present: set[str] = set()
    for text in chunk_texts:
        present |= term_keys(text)
    present = with_equivalents(present)
    focus = question.focus
    if known_only:
        focus = [term for term in focus if statistics.frequency(skeleton(term))]
    found = [term for term in focus if contains_term(present, term)]
    missing = [term for term in focus if term not in found]
    weights = {term: idf(statistics, term) for term in focus}
    total = sum(weights.values())
    missing_share = sum(weights[term] for term in missing) / total if total else 0.0
    unknown = [term for term in missing if statistics.frequency(skeleton(term)) == 0]
    answerable = missing_share < MAX_MISSING_SHARE
    return Coverage(found, missing, missing_share, unknown, answerable)


MENTIONED = 3  # how many of the found focus words the reply names


def decline_message(question: Question, found: Coverage | None, language: str) -> str:
    """The reply that says what the articles mention and what they do not.

    Declined before the model (the focus is not covered): the focus words found and those
    missing. Declined after it (nothing it wrote answers the question): what kind of answer
    is missing. `found` is None for an English question, whose words are not looked up."""
    reply = _REPLIES[language]
    wanted = reply["wanted"].get(question.asks, reply["wanted"]["other"])
    if found is None:
        return reply["no_kind"].format(wanted=wanted)
    lacking = [question.words.get(term, term) for term in (found.unknown or found.missing)]
    # Naming what was found helps only when it is most of the question, not a stray word.
    mentioned = [question.words.get(term, term) for term in found.found[:MENTIONED]] if len(found.found) > len(lacking) else []
    quoted = {"found": _quoted(mentioned, reply["comma"]), "missing": _quoted(lacking, reply["comma"]), "wanted": wanted}
    if not found.answerable:
        return reply["found_not_missing" if mentioned else "missing"].format(**quoted)
    return reply["found_not_kind" if mentioned else "no_kind"].format(**quoted)


_REPLIES = {
    "ar": {
        "found_not_missing": "تذكر المقالات {found}، لكنها لا تذكر {missing}.",
        "missing": "لا تذكر المقالات {missing}.",
        "found_not_kind": "تذكر المقالات {found}، لكنها لا تذكر {wanted}.",
        "no_kind": "لا تذكر المقالات {wanted}.",
        "comma": "، ",
        "wanted": {"count": "العدد المطلوب", "date": "التاريخ المطلوب", "person": "الاسم المطلوب",
                   "place": "المكان المطلوب", "other": "الإجابة المطلوبة"},
    },
    "en": {
        "found_not_missing": "The articles mention {found}, but not {missing}.",
        "missing": "The articles do not mention {missing}.",
        "found_not_kind": "The articles mention {found}, but do not give {wanted}.",
        "no_kind": "The articles do not give {wanted}.",
        "comma": ", ",
        "wanted": {"count": "the number asked for", "date": "the date asked for", "person": "the name asked for",
                   "place": "the place asked for", "other": "the answer asked for"},
    },
}


def _quoted(words: list[str], separator: str) -> str:
    return separator.join(f"«{word}»" for word in dict.fromkeys(words))
