"""Arabic-aware text utilities: normalization, tokens, numbers, sentence spans.

`normalize` and everything built on it are for matching only; displayed text and
chunk offsets always come from the original string.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

import Stemmer

# diacritics, superscript alef, Quranic marks, tatweel
_DROPPED = "".join(map(chr, [*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640]))
_LETTER_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
    "ی": "ي", "ک": "ك",  # Persian yeh and keh, common in scraped Arabic text
    "٬": ",", "٫": ".",
}
_TRANSLATION = str.maketrans(
    {
        **dict.fromkeys(map(ord, _DROPPED)),
        **{ord(k): v for k, v in _LETTER_MAP.items()},
        **{0x0660 + i: str(i) for i in range(10)},
        **{0x06F0 + i: str(i) for i in range(10)},
    }
)


def normalize(text: str) -> str:
    """Fold spelling variants (hamza forms, ة/ه, ى/ي, diacritics, digits, case) for matching."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATION).lower()


def plain_words(text: str) -> str:
    """The words of `text`, normalised, one space apart: what two texts are compared by when their
    punctuation and spelling variants should not tell them apart."""
    return " ".join(re.findall(r"\w+", normalize(text)))


def collapse_whitespace(text: str) -> str:
    """`text` on one line: each run of spaces, tabs and newlines becomes one space; none at the ends."""
    return " ".join(text.split())


_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF))  # Arabic, its supplement, extended-A
_ARABIC_BLOCKS = "".join(f"{chr(first)}-{chr(last)}" for first, last in _ARABIC_RANGES)
# The letters of the Arabic blocks, listed, and the other letters as one negated class: a
# lookahead before each letter made tokenising the slowest step of writing the lexical index.
_ARABIC_LETTER = "[" + "".join(
    re.escape(c) for first, last in _ARABIC_RANGES
    for c in map(chr, range(first, last + 1)) if re.fullmatch(r"[^\W\d_]", c)
) + "]"
_OTHER_LETTER = rf"[^\W\d_{_ARABIC_BLOCKS}]"
# A comma groups thousands only when exactly three digits follow, so "3, 4" stays two numbers.
_NUMBER = r"(?P<digits>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<fraction>\.\d+)?"
_MULTIPLIERS = {
    "الف": 1_000, "الفا": 1_000, "الاف": 1_000, "الافا": 1_000,
    "thousand": 1_000, "thousands": 1_000, "k": 1_000,
    "مليون": 1_000_000, "مليونا": 1_000_000, "ملايين": 1_000_000,
    "million": 1_000_000, "millions": 1_000_000,
    "مليار": 1_000_000_000, "مليارا": 1_000_000_000, "مليارات": 1_000_000_000,
    "billion": 1_000_000_000, "billions": 1_000_000_000, "bn": 1_000_000_000,
}
_MULTIPLIER = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
_QUANTITY = rf"{_NUMBER}(?:[^\S\n]*(?P<multiplier>{_MULTIPLIER})(?![^\W\d_]))?"
_TOKEN_RE = re.compile(rf"(?P<quantity>{_QUANTITY})|(?P<word>(?:{_ARABIC_LETTER})+|(?:{_OTHER_LETTER})+)")
_YEAR_RANGE_GAP = re.compile(r"[^\S\n]*[-–—][^\S\n]*")


def _quantity_value(match: re.Match) -> Decimal:
    value = Decimal(match["digits"].replace(",", "") + (match["fraction"] or ""))
    if match["multiplier"]:
        value *= _MULTIPLIERS[match["multiplier"]]
    return value


def _scan(normalized: str) -> list[tuple[str, Decimal | str]]:
    """("quantity", value) and ("word", text) items in order of appearance."""
    items: list[tuple[str, Decimal | str]] = []
    previous: re.Match | None = None
    for match in _TOKEN_RE.finditer(normalized):
        if match["word"]:
            items.append(("word", match["word"]))
            continue
        value = _quantity_value(match)
        if _is_abbreviated_year_end(normalized, previous, match):
            # "1950-53" means 1950 to 1953
            value = int(previous["digits"]) // 100 * 100 + value
        items.append(("quantity", value))
        previous = match
    return items


def _is_abbreviated_year_end(text: str, previous: re.Match | None, match: re.Match) -> bool:
    if previous is None or not _YEAR_RANGE_GAP.fullmatch(text, previous.end(), match.start()):
        return False
    first, last = previous["digits"], match["digits"]
    plain = not (previous["fraction"] or previous["multiplier"] or match["fraction"] or match["multiplier"])
    return plain and len(first) == 4 and len(last) == 2 and int(last) > int(first[2:])


def plain_number(value: Decimal | float) -> str:
    """A number written plainly: "14000", "3.5", "0.00005"; no grouping, exponent or trailing zeros."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def tokenize(text: str) -> list[str]:
    """Normalized words and numbers; a number with its multiplier ("14 ألف") is one token "14000"."""
    return [
        plain_number(value) if kind == "quantity" else value
        for kind, value in _scan(normalize(text))
    ]


def extract_numbers(text: str) -> list[float]:
    """Every quantity written with digits, as a plain value: "١٤٬٠٠٠" and "14 ألف" are 14000.0."""
    return [float(value) for kind, value in _scan(normalize(text)) if kind == "quantity"]


def numbers_match(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


_ARABIC_STOPWORDS = """
في من على إلى الى عن أن إن ان كان كانت كانوا يكون تكون يكن التي الذي الذين اللذان اللتان اللواتي اللاتي
هذا هذه هذان هاتان هؤلاء ذلك تلك أولئك ذاك هناك هنا مع ما لا لم لن ليس ليست قد كما حيث بعد قبل بين أو ثم
هو هي هم هن هما أنا نحن أنت أنتم كل بعض غير سوى عند عندما منذ حتى إذا إذ لو لكن ولكن لكنه بل أي أية
أيضا فقط جدا نحو خلال ضد حول دون لدى له لها لهم لهن به بها بهم فيه فيها فيهم منه منها منهم عليه عليها عليهم
إليه إليها إليهم عنه عنها عنهم إنه إنها إنهم أنه أنها أنهم وهو وهي وهم وفي ومن وعلى وإلى وعن وأن وإن وكان
وكانت ولا ولم ولن وليس وقد وكما ومع وما وبعد وقبل وبين وهذا وهذه وذلك وتلك وحتى ومنذ وهناك ثم فقد فإن فهو فهي
لقد كذلك إلا أما أم يا الآن الان عدة وفق وفقا بشأن إضافة بالإضافة كلا كلتا شيء أحد إحدى
قال وقال قالت وقالت يقول تقول
كم ماذا متى أين كيف هل لماذا لما
"""
_ENGLISH_STOPWORDS = """
a an the and or but if of at by for with about against between into through during before after above below
to from up down in out on off over under again further then once here there all any both each few more most
other some such no nor not only own same so than too very can will just should now i me my we our you your
he him his she her it its they them their this that these those am is are was were be been being have has had
having do does did doing would could may might must shall also as said says according
how many much what who whom whose when where why which
"""
STOPWORDS: frozenset[str] = frozenset(normalize(f"{_ARABIC_STOPWORDS} {_ENGLISH_STOPWORDS}").split())

_STEMMERS = {"arabic": Stemmer.Stemmer("arabic"), "english": Stemmer.Stemmer("english")}
# Snowball's Arabic stemmer strips the article only from long words and then handles
# suffixes differently ("القوات" -> "القو" but "قوات" -> "قوا"), so the article goes first.
_ARTICLES = ("وال", "فال", "بال", "كال", "ولل", "فلل", "لل", "ال")
_MIN_ARABIC_STEM = 3


def _strip_article(token: str) -> str:
    for article in _ARTICLES:
        if token.startswith(article) and len(token) - len(article) >= _MIN_ARABIC_STEM:
            return token[len(article):]
    return token


def _stem_arabic(token: str) -> str:
    once = _STEMMERS["arabic"].stemWord(_strip_article(token))
    # One pass leaves nisba and plural forms apart ("كوريين" -> "كوري", "كوري" -> "كور");
    # a second pass joins them, unless it cuts the stem below three letters.
    twice = _STEMMERS["arabic"].stemWord(once)
    return twice if len(twice) >= _MIN_ARABIC_STEM else once


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """Stem of one token: Snowball Arabic or English by script; numbers unchanged."""
    token = normalize(token)
    if not token or _is_number(token):
        return token
    if re.match(_ARABIC_LETTER, token):
        return _stem_arabic(token)
    return _STEMMERS["english"].stemWord(token)


def _is_number(token: str) -> bool:
    return token[0].isdigit()


def analyze(text: str) -> list[str]:
    """BM25 terms: tokens without stop words, stemmed; numbers canonical ("14,000" -> "14000")."""
    return [stem(token) for token in tokenize(text) if token not in STOPWORDS]


def content_terms(text: str) -> set[str]:
    """The distinct stemmed words of `text`, without stop words and numbers."""
    return {term for term in analyze(text) if not _is_number(term)}


_LINE = re.compile(r"[^\n\r\u2028\u2029]+")
_TERMINATOR = re.compile(r"[.!?؟]+[\"'”’»)]*")
_ENGLISH_ABBREVIATIONS = frozenset("mr mrs ms dr prof gen col lt sgt capt jr sr st vs".split())
_EDGE_SPACE = "\u200b\u200c\u200d\u200e\u200f\ufeff"


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in _EDGE_SPACE):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _EDGE_SPACE):
        end -= 1
    return start, end


def _word_before(text: str, position: int) -> str:
    start = position
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    return text[start:position]


def _ends_sentence(text: str, terminator: re.Match) -> bool:
    following = text[terminator.end()] if terminator.end() < len(text) else ""
    # "14.5", "example.com", "e.g.": no break when a digit or Latin letter follows directly
    if following.isdigit() or re.match(_OTHER_LETTER, following):
        return False
    if terminator[0] == ".":
        word = _word_before(text, terminator.start())
        # "د. إيمان", "U.S. forces", "Mr. Kim"
        if len(word) == 1 or word.lower() in _ENGLISH_ABBREVIATIONS:
            return False
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, whitespace-stripped, terminator included."""
    spans = []
    for line in _LINE.finditer(text):
        start = line.start()
        for terminator in _TERMINATOR.finditer(text, line.start(), line.end()):
            if _ends_sentence(text, terminator):
                spans.append(_strip_span(text, start, terminator.end()))
                start = terminator.end()
        spans.append(_strip_span(text, start, line.end()))
    return [(start, end) for start, end in spans if start < end]


_CLAUSE_SEPARATOR = re.compile(r"[،؛;]|(?<!\d),|,(?!\d)")


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of text[start:end] split after Arabic/Latin commas and semicolons (not "1,000")."""
    spans = []
    for separator in _CLAUSE_SEPARATOR.finditer(text, start, end):
        spans.append(_strip_span(text, start, separator.end()))
        start = separator.end()
    spans.append(_strip_span(text, start, end))
    return [(s, e) for s, e in spans if s < e]


_MIN_ARABIC_SHARE = 0.3


_QUOTED = re.compile(r"«[^«»]*»")


def detect_language(text: str) -> str:
    """"ar" unless Latin letters clearly dominate (Arabic under 30% of the letters). Words quoted in
    «guillemets» are their source's, not the text's: an English answer may quote an article's «name»."""
    unquoted = _QUOTED.sub(" ", text)
    if re.search(r"[^\W\d_]", unquoted):
        text = unquoted
    arabic = len(re.findall(_ARABIC_LETTER, text))
    other = len(re.findall(_OTHER_LETTER, text))
    if other and arabic / (arabic + other) < _MIN_ARABIC_SHARE:
        return "en"
    return "ar"


_LONG_VOWELS = re.compile(r"(?<=.)[اوي]")


@lru_cache(maxsize=65536)
def skeleton(term: str) -> str:
    """An Arabic stem without its inner long vowels ("جنود" and "جند" -> "جند"); other terms unchanged."""
    if term and "\u0600" <= term[0] <= "\u06ff":
        return _LONG_VOWELS.sub("", term)
    return term


def term_keys(text: str) -> set[str]:
    """The skeletons of the analysed terms of `text`: what coverage compares."""
    return {skeleton(term) for term in analyze(text)}
