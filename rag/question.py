"""Question analysis: what a question asks for, and its focus — the terms that say what is asked about.

"كم عدد الجنود الكوريين الذين أسرتهم القوات الأوكرانية؟" asks for a count; its focus is
{جنود, كوري, اسر, قوات, اوكران}. Answerability, the relevance of an answer sentence and the
figure collector all start from here. Pure code: no model, no index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.arabic import STOPWORDS, analyze, detect_language, normalize, stem, tokenize
from rag.casualties import kinds_asked

COUNT, DATE, PERSON, PLACE, DESCRIPTION, YES_NO, OTHER = "count", "date", "person", "place", "description", "yes/no", "other"

# Patterns are matched against the normalised question (ة->ه, أ->ا, ى->ي, lower case).
_ANSWER_TYPES: list[tuple[str, re.Pattern]] = [
    (COUNT, re.compile(
        r"(?:^|\s)(?:و|ف)?كم\b|(?:^|\s)(?:و|ف)?(?:ما|ماهو|ما هو|ما هي) (?:ال)?(?:عدد|حجم|عيار|قيمه|نسبه|رقم|مقدار|مجموع|مساحه|مسافه)\b"
        r"|\bhow (?:many|much)\b|\bwhat (?:is |was )?(?:the )?(?:number|calibre|caliber|size|amount|figure|total|percentage)\b"
    )),
    (DATE, re.compile(
        r"^\s*(?:و|ف)?متي\b|\b(?:في|فى) (?:اي|أي) (?:يوم|تاريخ|شهر|عام|سنه|وقت|فصل|موسم)\b|\bما (?:هو )?تاريخ\b|\bمتي\b"
        r"|^\s*when\b|\b(?:what|which) (?:date|day|month|year|season)s?\b|\bon what (?:date|day)\b"
    )),
    # "ما اسم المدينة", and "ما المدينة التي ..." (a place named by a clause; "ما المنطقة؟" alone is OTHER)
    (PLACE, re.compile(
        r"\bما اسم (?:ال)?(?:مدينه|قريه|منطقه|بلد|دوله|مكان|اقليم|مقاطعه)\b"
        r"|^\s*(?:و|ف)?ما (?:هي )?ال(?:مدينه|قريه|منطقه|بلد|دوله|اقليم|مقاطعه)\b.* (?:التي|الذي)\b"
    )),
    (PERSON, re.compile(
        r"^\s*(?:و|ف)?من (?:هو|هي|هم|الذي|التي|الذين)?\b|^\s*من\b|\bما اسم\b|\bمن الذي\b"
        r"|^\s*(?:و|ف)?ما (?:هي )?ال(?:جهه|وكاله|صحيفه|مصرف|منظمه|هييه)\b.* (?:التي|الذي)\b"
        r"|^\s*(?:مع |من |الي |عن )?اي (?:مسوول|صحيفه|وكاله|مصرف|بنك|جهه|قايد|جنرال|زعيم|رييس|وزير|متحدث)"
        r"|^\s*who(?:m|se)?\b|\bwhich (?:[a-z-]+ ){0,2}(?:general|official|leader|minister|president|person|commander|officer|newspaper|agency|bank|organi[sz]ation|country|army)\b"
        r"|\bwhat (?:is )?the name\b"
    )),
    (PLACE, re.compile(
        r"^\s*(?:و|ف)?(?:اين|الي اين|من اين)\b|\b(?:في|فى|الي|من) (?:اي|أي) (?:مدينه|قريه|منطقه|بلد|دوله|مكان|اقليم|مقاطعه)\b"
        r"|^\s*where\b|\b(?:in |to |from )?(?:which|what) (?:city|village|region|country|place|province|area|town)\b"
    )),
    (YES_NO, re.compile(
        r"^\s*(?:و|ف)?هل\b"
        r"|^\s*(?:is|are|was|were|did|does|do|has|have|had|can|will)\b"
    )),
    (DESCRIPTION, re.compile(
        r"^\s*(?:و|ف)?(?:كيف|ماذا|لماذا|بماذا|بم)\b|\bما (?:الذي|هي|هو)\b|^\s*ما\b"
        r"|^\s*(?:how|what|why)\b"
    )),
]

# Words that say *what kind* of answer is wanted, not what it is about: they are not focus terms.
_ASKING_WORDS = """
عدد حجم عيار قيمه نسبه رقم مقدار مجموع اسم تاريخ يوم شهر عام سنه وقت مدينه قريه منطقه بلد دوله مكان
يبلغ بلغ تقريبا نحو حوالي فعلا اي ذكر تذكر ذكرت وفق وفقا بحسب حسب المقالات المقال التقارير
لاي باي لايه بايه الف الاف مليون ملايين مليار
number numbers name date day month year time place city village region country roughly approximately about
total figure amount size article articles report reports reportedly exactly بان لان وبان
الخبر خبر الاخبار نفسه ذاته
""".split()
ASKING_STEMS = frozenset(stem(word) for word in _ASKING_WORDS) | frozenset(normalize(word) for word in _ASKING_WORDS)


_PUNCTUATION = "؟?!.,،؛;:\"'«»“”()[]"
# Question words, normalised: with a conjunction, one asks a second question («، وأين؟», «ومتى»).
_QUESTION_WORDS = frozenset("اين متي كيف لماذا ماذا كم هل".split())


@dataclass
class Question:
    text: str
    language: str  # "ar" or "en"
    asks: str  # COUNT, DATE, PERSON, PLACE, DESCRIPTION, YES_NO or OTHER
    focus: list[str]  # stemmed focus terms, in question order
    words: dict[str, str] = field(default_factory=dict)  # focus term -> the word as the question wrote it
    numbers: list[str] = field(default_factory=list)  # numbers the question itself gives
    counted: list[str] = field(default_factory=list)  # a count question's counted noun and its adjectives, stemmed
    money: bool = False  # a count question that asks an amount of money: a price, a cost, a sum paid
    identity: bool = False  # "who is X?", "what is X?": the sentences naming X answer it
    casualties: frozenset[str] = frozenset()  # the killed or the wounded, when a count question asks for one (rag.casualties)
    # A follow-up's words for what it points at ("he", «بهذا الوصف»): the last answer's telling words.
    refers_to: list[str] = field(default_factory=list)

    @property
    def in_full(self) -> str:
        """The question with what it refers to in brackets: what passages are chosen and answered for."""
        return with_context(self.text, [], self.refers_to)

    def with_referent(self) -> Question:
        """The question whose focus also holds the words it refers to."""
        referent = analyse(" ".join(self.refers_to))
        focus = self.focus + [term for term in referent.focus if term not in self.focus]
        return replace(self, focus=focus, words=referent.words | self.words, refers_to=[])


def answer_type(text: str) -> str:
    normalized = normalize(text).strip()
    for kind, pattern in _ANSWER_TYPES:
        if pattern.search(normalized):
            return kind
    return OTHER


def analyse(text: str, refers_to: list[str] = ()) -> Question:
    """The question's language, answer type and focus terms; `refers_to`: a follow-up's referent words."""
    focus: list[str] = []
    words: dict[str, str] = {}
    for position, (written, word) in enumerate(zip(text.split(), normalize(text).split())):
        word = word.strip(_PUNCTUATION)
        if word[:1] in "وف" and word[1:] in (ASKING_STEMS | STOPWORDS if position == 0 else _QUESTION_WORDS):
            continue  # "وكم", "فمن", "، وأين؟": a conjunction on a question word
        for term in analyze(word):
            # "الـ3000" (a number with the article) is a number the question gives, not a focus word
            if term in ASKING_STEMS or term in focus or term == "ال" or any(ch.isdigit() for ch in term):
                continue
            focus.append(term)
            words[term] = written.strip(_PUNCTUATION)
    numbers = [token for token in tokenize(text) if token[0].isdigit()]
    kind = answer_type(text)
    counted = counted_noun(text) if kind == COUNT else []
    return Question(
        text, detect_language(text), kind, focus, words, numbers, counted, kind == COUNT and asks_money(text),
        identity=asks_identity(text), casualties=kinds_asked(text) if kind == COUNT else frozenset(),
        refers_to=list(refers_to),
    )


# "من هو شين وون سيك؟", "ما هي معاهدة الشراكة الاستراتيجية؟", "Who is Shin Won-sik?": a name or a
# short noun phrase after "who/what is", with no clause of its own (no relative pronoun, no verb).
_IDENTITY = re.compile(
    r"^\s*(?:و|ف)?(?:من|ما) (?:هو|هي|هم|كان|كانت) (?P<ar>[^؟?]+)[؟?]?\s*$"
    r"|^\s*(?:who|what) (?:is|was|are|were) (?P<en>[^?]+)\??\s*$"
)
_CLAUSE_WORDS = frozenset("الذي التي الذين اللذان اللتان اللواتي that which who whom whose did does do".split())


def asks_identity(text: str) -> bool:
    match = _IDENTITY.match(normalize(text))
    if not match:
        return False
    words = (match.group("ar") or match.group("en")).split()
    return len(words) <= 5 and not _CLAUSE_WORDS & set(words)


# "كم دفعت روسيا", "ما تكلفة", "بالدولار", "how much did it cost": a count that only a sum of money answers.
# Only right after "كم" is "دفع" paying: "الجنود الذين دفعت بهم" is sending them.
_MONEY_QUESTION = re.compile(
    r"(?:^|\s)(?:و|ف)?كم (?:دفع|يدفع|تدفع|كلف|يكلف|تكلف|انفق|ينفق|تنفق|خصص|يخصص|تخصص)"
    r"|\b(?:ثمن|سعر|تكلفه|كلفه|بالدولار|باليورو|بالروبل)\b"
    r"|\bhow much\b.*\b(?:pay|paid|cost|costs|spend|spent|worth|price)\b|\bwhat (?:is |was )?the (?:price|cost)\b"
)


def asks_money(text: str) -> bool:
    return bool(_MONEY_QUESTION.search(normalize(text)))


def with_context(follow_up: str, earlier_questions: list[str], answer_words: list[str] = ()) -> str:
    """A follow-up made to stand alone in code: the follow-up, then in brackets the words the last
    two questions asked about that it does not repeat, and `answer_words`, the last answer's words
    for what it found (rag.answerability.telling_words). «وكم قدّر خسائر الأوكرانيين هناك؟» after
    «ماذا قال الجنرال غيراسيموف لبوتين عن معارك كورسك؟» is searched as «وكم قدّر خسائر الأوكرانيين
    هناك؟ (الجنرال غيراسيموف لبوتين معارك كورسك …)». The follow-up comes first, so its question word
    still decides what kind of answer is wanted."""
    own = set(analyse(follow_up).words.values())
    context: list[str] = []
    for earlier in earlier_questions[-2:]:
        asked = analyse(earlier)
        context += [word for word in (asked.words[term] for term in asked.focus) if word not in own and word not in context]
    context += [word for word in answer_words if word not in own and word not in context]
    return f"{follow_up} ({' '.join(context)})" if context else follow_up


# "كم جندياً", "كم عدد الجنود", "ما قيمة المساعدات": the noun after the count word is what is counted.
_COUNT_WORD = re.compile(
    r"(?:^|\s)(?:و|ف)?(?:(?P<kam>كم)(?: (?:يبلغ|بلغ|كان|كانت))?(?P<of> (?:عدد|مجموع|حجم))?"
    r"|ما (?:هو |هي )?(?:عدد|حجم|قيمه|مساحه|مقدار|مجموع|نسبه))\s+(?P<noun>\S+(?:\s+\S+){0,3})"
)
_NOT_ADJECTIVE = STOPWORDS | {"تقريبا", "فعلا", "بالفعل"}


def counted_noun(text: str) -> list[str]:
    """The stems of what an Arabic count question counts: the noun after its count word and the
    adjectives that agree with it ("الجنود الروس", "صاروخاً مضاداً"), which the clause that states the
    number must name too. [] when there is none to read (an English question, "كم دفعت روسيا")."""
    match = _COUNT_WORD.search(normalize(text))
    if not match:
        return []
    words = [word.strip(_PUNCTUATION) for word in match.group("noun").split()]
    head, following = words[0], words[1:]
    # Right after "كم" the counted noun is indefinite and accusative: "جندياً", "وحدةً"; anything
    # else there is a verb ("كم دفعت", "كم قدّر").
    if not head or head in _NOT_ADJECTIVE or match.group("kam") and not match.group("of") and not head.endswith(("ا", "ه")):
        return []
    definite = head.startswith(("ال", "بال", "لل"))
    noun = [head]
    for word in following:
        # "كم جزيرةً تشملها": a word with an attached "ها" is a verb or a possessed noun, not an adjective
        agrees = word.startswith(("ال", "لل")) if definite else word.endswith(("ا", "اً")) and not word.endswith("ها")
        if word in _NOT_ADJECTIVE or not agrees:
            break
        noun.append(word)
    return [term for word in noun for term in analyze(word)]
