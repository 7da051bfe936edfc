"""Does an answer sentence answer the question that was asked?

A sentence is shown only when it gives an answer of the asked type (a count needs a number
the question did not give, a date needs a date) and the passage it cites is about the
question's focus. "4,000 killed or wounded" cited for "how many were captured?" fails the
second test; "the Western powers will meet in Paris" for "on what day?" fails the first.
For a count whose counted noun the question names, "about" is sharper: one clause of the
cited passage must give the number and name the noun with its adjectives ("how many ballistic
missiles?" is not answered by a clause on 220 howitzers in a sentence that lists missiles).
"""
from __future__ import annotations

import re

from rag.answerability import MAX_MISSING_SHARE, LexicalStatistics, contains_term, coverage
from rag.arabic import detect_language, extract_numbers, normalize, numbers_match, split_clauses, split_sentences, term_keys
from rag.question import COUNT, DATE, Question

# A cited passage must hold the question's focus terms that the index knows, by this share of their weight.
MAX_PASSAGE_MISSING_SHARE = 0.7
assert MAX_PASSAGE_MISSING_SHARE <= MAX_MISSING_SHARE

# Each month's names, normalised: Gregorian Arabic, Levantine (one-word names only), English.
MONTHS = [
    "يناير january jan", "فبراير شباط february feb", "مارس اذار march mar", "ابريل نيسان april apr",
    "مايو ايار may", "يونيو حزيران june jun", "يوليو تموز july jul", "اغسطس اب august aug",
    "سبتمبر ايلول september sep sept", "اكتوبر october oct", "نوفمبر november nov", "ديسمبر december dec",
]
_MONTHS = " ".join(MONTHS) + " كانون تشرين"
# Each weekday's names, normalised: Arabic, English.
DAYS = [
    "السبت saturday", "الاحد sunday", "الاثنين monday", "الثلاثاء tuesday", "الاربعاء wednesday",
    "الخميس thursday", "الجمعه friday",
]
_DAYS = " ".join(DAYS)
_SEASONS = "الخريف الربيع الصيف الشتاء autumn fall spring summer winter امس yesterday"
_DATE_WORDS = frozenset(f"{_MONTHS} {_DAYS} {_SEASONS}".split())
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _words(text: str) -> set[str]:
    """The normalised words of `text`, also without a leading article or "و"."""
    words = set(re.findall(r"[^\W\d_]+", normalize(text)))
    return words | {word.removeprefix("ال").removeprefix("و") for word in words}


def states_a_date(text: str) -> bool:
    return bool(_YEAR.search(normalize(text)) or _words(text) & _DATE_WORDS)


def is_date_word(word: str) -> bool:
    """One word of a written date: a month or day name, a year, or a day of the month."""
    plain = normalize(word)
    if plain.isdigit():
        return bool(_YEAR.fullmatch(plain)) or 1 <= int(plain) <= 31
    return bool(_words(plain) & _DATE_WORDS)


def months_named(text: str) -> set[int]:
    """The months `text` names (1-12), in Arabic or English."""
    words = _words(text)
    return {number for number, names in enumerate(MONTHS, start=1) if words & set(names.split())}


def new_numbers(text: str, question: Question) -> list[float]:
    asked = [float(n) for n in question.numbers]
    return [n for n in extract_numbers(text) if not any(numbers_match(n, m) for m in asked)]


# Currency names and signs, normalised (ة->ه): what makes a number a sum of money.
_MONEY = re.compile(r"دولار|يورو|روبل|جنيه|ريال|درهم|دينار|ليره|\bوون\b|\$|€|£|\b(?:usd|eur|dollars?|euros?|roubles?|rubles?|pounds?|won)\b")


def states_money(text: str) -> bool:
    return bool(_MONEY.search(normalize(text)))


def gives_answer_type(text: str, question: Question) -> bool:
    if question.asks == COUNT:
        return bool(new_numbers(text, question)) and (not question.money or states_money(text))
    if question.asks == DATE:
        return states_a_date(text)
    return True


def wrong_language(sentence: str, question: Question) -> str:
    """Why an answer sentence to an English question cannot be shown as it is, or ""."""
    if question.language == "en" and detect_language(sentence) != "en":
        return "not written in English"
    return ""


def counts_it(numbers: list[float], counted: list[str], passages: list[str]) -> bool:
    """True when one clause of a passage states one of `numbers` and names what is counted, with
    its adjectives: "4,000 of the North Korean soldiers" counts "الجنود الكوريين الشماليين"; a clause
    on 220 howitzers does not count ballistic missiles, though its sentence mentions them."""
    for passage in passages:
        for s_start, s_end in split_sentences(passage):
            for start, end in split_clauses(passage, s_start, s_end):
                clause = passage[start:end]
                if any(numbers_match(n, m) for n in numbers for m in extract_numbers(clause)) and names_counted(
                    term_keys(clause), counted
                ):
                    return True
    return False


def names_counted(keys: set[str], counted: list[str]) -> bool:
    """True when a clause's term keys hold the counted noun and every adjective of it."""
    return all(contains_term(keys, term) for term in counted)


def irrelevance(sentence: str, cited_passages: list[str], question: Question, statistics: LexicalStatistics) -> str:
    """Why the sentence does not answer the question, or "" when it does."""
    if not gives_answer_type(sentence, question):
        return f"gives no {question.asks}"
    if question.language != "ar":
        return ""  # the focus is in English, the passages in Arabic: the cross-language check decides
    if question.counted:
        if counts_it(new_numbers(sentence, question), question.counted, cited_passages):
            return ""
        return f"no cited clause gives a number of {' '.join(question.words.get(t, t) for t in question.counted)}"
    # The passages alone: the sentence itself may echo the question's words.
    found = coverage(question, cited_passages, statistics, known_only=True)
    if found.missing_share >= MAX_PASSAGE_MISSING_SHARE:
        return f"cited passage is not about {', '.join(question.words.get(t, t) for t in found.missing)}"
    return ""
