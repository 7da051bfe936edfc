"""The "quote" answer style: the passages the model points at, shown in the article's own words.

A 1.5B model writes unreliable sentences (wrong figures, fragments, invented names) but
finds the passage that states an answer well. So it only copies the answer's words and lists
the passages that state them (rag.prompt.QUOTE_SYSTEM); the answer is those passages'
sentences, verbatim. The copied words decide between the passages: a listed passage that
does not contain them is dropped, and when no listed passage does, the shown passage that
contains them is used instead. Where code can tell an answer from a passage (a date, or a count
of something the question names), the shown passage holding most of the question's words
replaces the model's pick when it is closer to the question than every passage the model picked.
"""
from __future__ import annotations

import re

from rag.answerability import LexicalStatistics, coverage
from rag.arabic import STOPWORDS, content_terms, detect_language, extract_numbers, normalize, numbers_match, plain_words, tokenize
from rag.citations import UNITS
from rag.draft import QuoteDraft
from rag.names import arabic_skeleton, settled_spelling, unmatched_names
from rag.question import COUNT, DATE, Question
from rag.relevance import DAYS, MAX_PASSAGE_MISSING_SHARE, MONTHS, gives_answer_type, is_date_word, is_year, months_named
from rag.types import Citation, Passage, Sentence

MAX_QUOTED = 3
QUOTED_REASON = "the passage's own words"
STATING_REASON = "the passage's own words: it states the figure the question asks about"
CLOSEST_REASON = "the passage's own words: of the shown passages that give a figure or date, the one holding most of the question's words"
FIGURE_IN_ENGLISH = "The cited article gives"  # opens the English answer that is a bare figure or date
NAME_IN_ENGLISH = "The cited article names"  # opens the English answer that is a name code writes
MAX_NAME_WORDS = 6  # «وكالة الأنباء المركزية الكورية الرسمية»; more is a clause, not a name


def holds_answer(passage: str, answer: str) -> bool:
    """True when `passage` contains the copied answer: as written (normalised); or every number of
    it and every content word (an Arabic answer), or every month and name (an answer the model wrote
    in English: "June 2024", "Gerasimov", "170 mm")."""
    wanted, text = plain_words(answer), plain_words(passage)
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


def unlisted_holders(draft: QuoteDraft, passages: list[Passage], tried: list[Sentence]) -> list[Sentence]:
    """The other shown passages that hold the copied words, in passage order, each citing itself:
    where the answer is stated when the passage the model named is about something else («220»
    copied for "how many rocket launchers?" and cited to the sentence on 220 howitzers)."""
    done = {c.passage for s in tried for c in s.citations}
    holding = [p for p in passages if p.number not in done and draft.answer and holds_answer(p.text, draft.answer)]
    return [Sentence(p.text, [Citation(p.number, True, QUOTED_REASON)]) for p in holding[:MAX_QUOTED]]


def stating(figures: list[float], passages: list[Passage]) -> list[Sentence]:
    """The shown passages that state one of these figures, in passage order, each citing itself."""
    holding = [p for p in passages if any(numbers_match(f, n) for f in figures for n in extract_numbers(p.text))]
    return [Sentence(p.text, [Citation(p.number, True, STATING_REASON)]) for p in holding[:MAX_QUOTED]]


def picks_by_code(question: Question) -> bool:
    """True for the questions whose answer code can tell from a passage: an Arabic date question,
    and an Arabic count question that names what it counts or asks a sum of money ("how far is
    Mecca from Medina?" names nothing, and any number of a passage about Mecca would do)."""
    return question.language == "ar" and (question.asks == DATE or question.asks == COUNT and bool(question.counted or question.money))


def closest_typed(question: Question, passages: list[Passage], statistics: LexicalStatistics) -> list[Sentence]:
    """The shown passages that give the kind of answer asked for (a count's new number, a date) and
    hold at least part of the question's focus, the one holding most of it (by IDF weight) first,
    each citing itself; ties keep the passages' order."""
    scored = [(focus_missing(question, p.text, statistics), p) for p in passages if gives_answer_type(p.text, question)]
    kept = sorted((pair for pair in scored if pair[0] < MAX_PASSAGE_MISSING_SHARE), key=lambda pair: pair[0])
    return [Sentence(p.text, [Citation(p.number, True, CLOSEST_REASON)]) for _, p in kept]


def closer_than_picked(question: Question, candidates: list[Sentence], picked: list[str], statistics: LexicalStatistics) -> Sentence | None:
    """The first candidate when it holds more of the question's focus than every passage the model
    picked (none picked: than nothing), else None. The small model copies a figure from the wrong
    passage («14,000», the Ukrainian estimate, for "how many did Washington and Seoul confirm?") or
    none at all («القسم 4» for "in which season?"). Ties go to the model, and so does a pick that was
    withheld but is as close as the candidate: for "when was Liverpool founded?" asked of articles
    without Liverpool, the model's Manchester United passage is as close as Al Ahly's founding."""
    if not candidates:
        return None
    closest_picked = min((focus_missing(question, text, statistics) for text in picked), default=1.0)
    return candidates[0] if focus_missing(question, candidates[0].text, statistics) < closest_picked else None


def focus_missing(question: Question, text: str, statistics: LexicalStatistics) -> float:
    """The share of the question's focus weight (of terms the index knows) that `text` lacks."""
    return coverage(question, [text], statistics, known_only=True).missing_share


# How far into a sentence the name a "who is X?" question asks about may come: a definition opens
# with it, an appositive follows a title («وقال مستشار الأمن القومي في كوريا الجنوبية، شين وون سيك، …»).
INTRODUCED_WITHIN_WORDS = 12


def introduces(sentence: str, name: str) -> bool:
    """True when `name` is written among the first words of `sentence`: the sentence is about it."""
    return holds_answer(" ".join(sentence.split()[:INTRODUCED_WITHIN_WORDS]), name)


def passage_words(answer: str, passage: str) -> str:
    """The copied words as the passage writes them, whole words only: «اليري» copied from «فاليري
    غيراسيموف» is «فاليري». The fewest adjacent words of the passage that hold the copied words
    (normalised), with what stands between them; the answer as it is when no run of words holds it."""
    wanted = plain_words(answer)
    words = list(_WORD.finditer(passage))
    plain = [normalize(word.group()) for word in words]
    for length in range(1, len(words) + 1) if wanted else ():
        for start in range(len(words) - length + 1):
            if wanted in " ".join(plain[start : start + length]):
                return passage[words[start].start() : words[start + length - 1].end()]
    return answer


_WORD = re.compile(r"[\w\u064B-\u065F\u0670]+")  # with its short vowels and tanwin («نقلاً»)


def whole_name(name: str, passage: str) -> str:
    """A person's name as the passage writes it in full: the words of `name` (whole words of the
    passage, as passage_words gives them) with each word right after them, up to MAX_NAME_WORDS,
    that is a name English text spells one way only (rag.names.settled_spelling): «فاليري» copied
    from «الجنرال فاليري غيراسيموف، رئيس الأركان» is «فاليري غيراسيموف». Only a space may stand
    between; the name as it is when the passage does not hold it."""
    words = list(_WORD.finditer(passage))
    wanted = plain_words(name)
    count = len(wanted.split())
    start = next((i for i in range(len(words) - count + 1) if wanted and plain_words(" ".join(w.group() for w in words[i : i + count])) == wanted), None)
    if start is None:
        return name
    end = start + count
    while (
        end < len(words) and end - start < MAX_NAME_WORDS
        and not passage[words[end - 1].end() : words[end].start()].strip()
        and settled_spelling(words[end].group())
    ):
        end += 1
    return passage[words[start].start() : words[end - 1].end()]


def is_name(answer: str) -> bool:
    """True when copied words can be a name: a few words and no figure."""
    return bool(answer.split()) and len(answer.split()) <= MAX_NAME_WORDS and not extract_numbers(answer)


def whole_date(answer: str, passage: str) -> str:
    """A copied date grown to the whole date the passage writes around it: «2024» copied from
    «في يونيو 2024» is «يونيو 2024». The answer as it is when the passage does not hold it word for word."""
    words = re.findall(r"\w+", passage)
    plain = [normalize(word) for word in words]
    wanted = re.findall(r"\w+", normalize(answer))
    n = len(wanted)
    start = next((i for i in range(len(plain) - n + 1) if n and plain[i : i + n] == wanted), None)
    if start is None:
        return answer
    end = start + n
    while start > 0 and is_date_word(words[start - 1]):
        start -= 1
    while end < len(words) and is_date_word(words[end]):
        end += 1
    return " ".join(words[start:end])


_TOKEN = re.compile(r"\d[\d,.٬]*\d|\w+|[،؛,;:.!?؟]")  # «3,000» is one token, not a day 3 and a 000
# What opens a reported clause: the date before it is the report's, not the event's («أفادت يونهاب
# في مارس أن كوريا أرسلت ... في يناير»).
_THAT = frozenset("ان انه انها بان بانه بانها لان".split())


def date_nearest(figures: list[float], passage: str) -> str:
    """The date that the passage writes in the clause stating a figure the question gives, the
    nearest if several: «in which months were the 3,000 extra troops sent?» is answered by «يناير
    وفبراير 2025» in «أفادت يونهاب في مارس 2025 أن كوريا الشمالية أرسلت 3,000 جندي إضافي إلى روسيا
    في يناير وفبراير 2025». Clauses end at punctuation and open at «أن». A date has a month, a
    day's name or a year, not only a day of the month; "" when no such clause has one."""
    tokens, clause_of, clause = _TOKEN.findall(passage), [], 0
    for token in tokens:
        clause += not token[0].isalnum() or normalize(token) in _THAT
        clause_of.append(clause)
    stated = [i for i, token in enumerate(tokens) if any(numbers_match(f, n) for f in figures for n in extract_numbers(token))]
    dates = _date_spans(tokens)
    near = [(abs(at - (start if at < start else end - 1)), start, end) for at in stated for start, end in dates if clause_of[at] == clause_of[start]]
    if not near:
        return ""
    _, start, end = min(near)
    return " ".join(tokens[start:end])


def calendar_dates(text: str) -> list[str]:
    """The dates `text` writes with a month or a year («أغسطس من العام الماضي» gives «أغسطس»; «يوم
    السبت» gives none), as written."""
    tokens = _TOKEN.findall(text)
    return [" ".join(tokens[start:end]) for start, end in _date_spans(tokens, calendar=True)]


def _date_spans(tokens: list[str], *, calendar: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each run of date words that is a date: one with more than a day of the
    month, or, for a `calendar` date, with a month or a year."""
    spans, i = [], 0
    while i < len(tokens):
        end = i
        while end < len(tokens) and is_date_word(tokens[end]):
            end += 1
        run = tokens[i:end]
        if calendar and (months_named(" ".join(run)) or any(token.isdigit() and is_year(float(token)) for token in run)):
            spans.append((i, end))
        elif not calendar and any(not (token.isdigit() and int(token) <= 31) for token in run):
            spans.append((i, end))
        i = max(end, i + 1)
    return spans


def _english_names(table: list[str]) -> dict[str, str]:
    """Each Arabic name of a month or weekday -> its English name ("يونيو" -> "June")."""
    names = {}
    for row in table:
        words = row.split()
        english = next(word for word in words if word.isascii()).capitalize()
        names.update({word: english for word in words if not word.isascii()})
    return names


# What a bare figure or date may hold besides its numbers, in English.
_ENGLISH_DATE_WORDS = _english_names(MONTHS) | _english_names(DAYS)
_ENGLISH_UNITS = {
    spelling: english
    for unit, english in {"mm": "mm", "km": "km", "kg": "kg", "ton": "tons", "percent": "percent", "dollar": "dollars"}.items()
    for spelling in UNITS[unit]
}
_ENGLISH_APPROXIMATELY = {"حوالي": "about", "نحو": "about", "قرابه": "about", "تقريبا": "about"}
_CONJUNCTION = "و"


def english_figure(answer: str) -> str:
    """A copied answer that is only a figure or a date, written in English by code: «4,000» ->
    "4,000", «28 أبريل 2025» -> "28 April 2025", «240 ملليمتر» -> "240 mm", «يناير وفبراير» ->
    "January and February". "" when the answer holds any other word: that one needs a sentence."""
    out = []
    for word in tokenize(answer):
        if word[:1] == _CONJUNCTION and word[1:] in _ENGLISH_DATE_WORDS:  # «وفبراير»
            out.append("and")
            word = word[1:]
        if word[0].isdigit():
            if out and out[-1][0].isdigit():
                return ""  # «2,5»: two numbers side by side say nothing plain
            out.append(_grouped(word))
        elif word in _ENGLISH_DATE_WORDS:
            out.append(_ENGLISH_DATE_WORDS[word])
        elif word in _ENGLISH_UNITS:
            out.append(_ENGLISH_UNITS[word])
        elif word in _ENGLISH_APPROXIMATELY:
            out.append(_ENGLISH_APPROXIMATELY[word])
        elif word == _CONJUNCTION:
            out.append("and")
        elif word not in STOPWORDS:  # «في», «من»: what the English order leaves out
            return ""
    said = set(out)
    return " ".join(out) if said & set(_ENGLISH_DATE_WORDS.values()) or any(w[0].isdigit() for w in said) else ""


def _grouped(number: str) -> str:
    """"14000" -> "14,000"; a fraction, a number under 1,000 or a year (1900-2100) as it is."""
    if not number.isdigit() or int(number) < 1000 or len(number) == 4 and 1900 <= int(number) <= 2100:
        return number
    return f"{int(number):,}"


def _sounds(text: str) -> set[str]:
    """Consonant skeletons of the Arabic words of `text`, as rag.names compares transliterations."""
    return {arabic_skeleton(word) for word in re.findall(r"[\u0621-\u064A]+", normalize(text)) if word not in STOPWORDS}

