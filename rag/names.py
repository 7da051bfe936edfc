"""Names across scripts: is the English name "Gerasimov" a transliteration of a word in an Arabic passage?

Both spellings are reduced to a consonant skeleton (vowels, semi-vowels and h dropped;
letters that the two scripts confuse merged into one class): "Gerasimov" and "غيراسيموف"
are both "grsmf", "Pyongyang" and "بيونغ يانغ" both "bngng". A made-up name ("General
Walis") has no word in the passage with its skeleton.

A skeleton tells that a spelling fits, not that English news writes it so. The small model's
spelling of a name it copies is replaced by the place's English name when GeoNames knows the
place (rag.places), else by the spelling English text uses for the person (rag.spellings:
"Shyguo" becomes "Shoigu"), else by the article's own Arabic.
"""
from __future__ import annotations

import re
from functools import lru_cache

from rag.arabic import normalize
from rag.places import english_place
from rag.spellings import news_spelling, only_spelling

_LATIN_DIGRAPHS = [("sh", "s"), ("ch", "s"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ph", "f"), ("ck", "k"), ("ts", "s")]
_LATIN = str.maketrans({
    **dict.fromkeys("aeiouyhw'’-", None),
    "p": "b", "c": "k", "q": "k", "j": "g", "v": "f", "z": "s", "x": "s",
})
_ARABIC = str.maketrans({
    **dict.fromkeys("اويىءئؤهحع", None),
    "ب": "b", "پ": "b", "ت": "t", "ط": "t", "ث": "t", "ج": "g", "غ": "g", "ق": "k", "ك": "k", "خ": "k",
    "د": "d", "ذ": "d", "ض": "d", "ر": "r", "ز": "s", "س": "s", "ش": "s", "ص": "s", "ظ": "s",
    "ف": "f", "ڤ": "f", "ل": "l", "م": "m", "ن": "n",
})
_REPEATS = re.compile(r"(.)\1+")
_ARABIC_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل")
_MIN_CHECKED = 2  # skeletons shorter than this ("Un" -> "n") say too little to check


def latin_skeleton(word: str) -> str:
    word = word.lower()
    for digraph, letter in _LATIN_DIGRAPHS:
        word = word.replace(digraph, letter)
    return _REPEATS.sub(r"\1", re.sub(r"[^a-z]", "", word).translate(_LATIN))


def arabic_skeleton(word: str) -> str:
    return _REPEATS.sub(r"\1", normalize(word).translate(_ARABIC))


@lru_cache(maxsize=1024)  # one text is asked for each name of a question, and for each of its parts
def _arabic_keys(text: str) -> frozenset[str]:
    """Skeletons of every Arabic word with and without its prefixes, and of each pair of adjacent words."""
    words = re.findall(r"[\u0621-\u064A]+", normalize(text))  # Arabic letters only, not "،" or "؟"
    keys: set[str] = set()
    forms = []
    for word in words:
        variants = {word} | {word[len(p):] for p in _ARABIC_PREFIXES if word.startswith(p) and len(word) - len(p) >= 2}
        forms.append(variants)
        keys |= {arabic_skeleton(v) for v in variants}
    for first, second in zip(forms, forms[1:]):
        keys |= {arabic_skeleton(a) + arabic_skeleton(b) for a in first for b in second}
    return frozenset(key for key in keys if key)


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def transliterates(name: str, arabic_text: str) -> bool:
    """True when `name` (Latin script) is written in `arabic_text`: literally, or as a transliteration."""
    if name.lower() in arabic_text.lower():
        return True
    key = latin_skeleton(name)
    if len(key) < _MIN_CHECKED:
        return True
    keys = _arabic_keys(arabic_text)
    if key in keys:
        return True
    return len(key) >= 5 and any(_within_one_edit(key, other) for other in keys if len(other) >= 4)


# Capitalised words of English news that are translated, not transliterated, from Arabic.
_NOT_NAMES = frozenset("""
the a an in on at of by for to from with and or but as after before during since about according
he she it they his her its their this that these those there here when where which who what how
north south east west northern southern eastern western central united states kingdom republic
korea korean koreans russia russian russians ukraine ukrainian ukrainians america american americans
britain british european europe western western-backed black sea
general president minister ministry prime chief staff army armed forces force defense defence foreign
national security adviser advisor intelligence service agency news state official officials spokesman
joint chiefs military commander leader government kremlin department office council parliament assembly
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december mr mrs ms dr
did does do is are was were has have had will would can could should name list give tell
""".split())


def name_words(text: str, known: str = "") -> list[str]:
    """The capitalised words of an English text that are names, other than those `known` uses."""
    known_words = {w.lower() for w in re.findall(r"[A-Za-z][\w'-]*", known)}
    return [
        word for word in re.findall(r"\b[A-Z][A-Za-z'’-]+", text)
        if word.lower() not in _NOT_NAMES and word.lower() not in known_words and re.sub(r"'s$", "", word).lower() not in _NOT_NAMES
    ]


def names_spelled_from(sentence: str, arabic_words: str, known: str = "") -> list[str]:
    """The names of an English sentence (other than those `known` uses) that spell a word of
    `arabic_words`, judged by a skeleton of two letters or more: "Reis" or "Yury" (skeletons "rs"
    and "r") do not spell «اليري» ("lr"), whatever other Arabic words they happen to fit."""
    return [
        word for word in name_words(sentence, known)
        if len(latin_skeleton(word)) >= _MIN_CHECKED and writes_name(word, arabic_words)
    ]


def writes_name(name: str, arabic_text: str) -> bool:
    """True when `arabic_text` writes the name: each of its parts ("Shin Won-sik"), or transliterated."""
    parts = [part for part in re.split(r"[-'’]", name) if part]
    return all(transliterates(part, arabic_text) or part.lower() in _NOT_NAMES for part in parts)


def unmatched_names(sentence: str, arabic_text: str, known: str = "") -> list[str]:
    """The capitalised words of an English sentence that are names and are not in `arabic_text`.

    Words the question (`known`) already uses are the user's own spelling and are not checked."""
    return [word for word in name_words(sentence, known) if not writes_name(word, arabic_text)]


def spelled_names(sentence: str, arabic_words: str, known: str = "", *, place_asked: bool = False) -> str:
    """The sentence with each name it spells from `arabic_words` (the question's own names aside)
    written as English news writes it when GeoNames knows the place (rag.places), else in the
    article's Arabic script: the small model's spellings are guesses ("Byungyang", "Shyguo").
    `place_asked`: the question asks for a place, so a small town's name is trusted too."""
    arabic = re.findall(r"\S+", arabic_words)
    pieces, end = [], 0
    for run in re.finditer(r"\b[A-Z][A-Za-z'’-]+(?:[ -][A-Z][A-Za-z'’-]+)*", sentence):
        words = list(re.finditer(r"[A-Za-z'’-]+", run.group()))
        names = set(name_words(run.group(), known))
        while words and words[0].group() not in names:  # a title before the name ("General") stays
            words.pop(0)
        while words and words[-1].group() not in names:
            words.pop()
        if not any(_spells(word.group(), arabic_words) for word in words):
            continue
        start, stop = run.start() + words[0].start(), run.start() + words[-1].end()
        name = re.sub(r"['’]s$", "", sentence[start:stop])
        parts = [part for part in re.split(r"[\s'’-]+", name) if len(latin_skeleton(part)) >= _MIN_CHECKED]
        span = _covering_span(parts, arabic)
        if span is None or not re.search(r"[\u0621-\u064A]", span):
            continue  # a name the article writes in Latin letters is its own spelling
        english = english_place(span, any_size=place_asked) or _news_spelled(name, span) or f"«{span}»"
        pieces += [sentence[end:start], english + sentence[start + len(name):stop]]
        end = stop
    return "".join(pieces) + sentence[end:]


def english_name(arabic_name: str, guess: str = "", *, place_asked: bool = False) -> str:
    """An Arabic name as English news writes it: a place's as GeoNames knows it (rag.places), else
    each word's settled spelling, else the Arabic in «guillemets». A word's spelling is the one nearest
    a name of `guess` (the model's English) that writes it (rag.spellings.news_spelling), else its
    only one (settled_spelling). `place_asked`: the question asks for a place, so a small town is trusted.
    A person whose last name has a settled spelling and a first name that has none is named by the
    last name, with the whole name in Arabic beside it: "Gerasimov («فاليري غيراسيموف»)"."""
    place = english_place(arabic_name.strip(), any_size=place_asked)
    if place:
        return place
    in_arabic = f"«{arabic_name.strip()}»"
    words = re.findall(r"[\u0621-\u064A]+", arabic_name)
    spelled = [_word_in_english(word, guess) for word in words]
    if all(spelled):
        return " ".join(spelled) or in_arabic
    if not place_asked and len(words) > 1 and spelled[-1]:
        return f"{spelled[-1]} ({in_arabic})"
    return in_arabic


def _word_in_english(word: str, guess: str) -> str | None:
    guesses = [name for name in name_words(guess) if _spells(name, word)]
    spelling = news_spelling(word, guesses[0]) if guesses else settled_spelling(word)
    return spelling.capitalize() if spelling else None


def settled_spelling(word: str) -> str | None:
    """How English writes the name `word` when it writes it one way only (rag.spellings.only_spelling);
    None for a word with the article, which names seldom take and adjectives do («الكورية» fits "locavore")."""
    return None if normalize(word).startswith("ال") else only_spelling(word)


def _news_spelled(name: str, span: str) -> str | None:
    """The name with each of its parts spelled as English text spells the Arabic word of `span` it
    writes, parts and words in order ("Shin Won-sik" for «شين وون سيك»); None when a part has none."""
    words = re.findall(r"[\u0621-\u064A]+", span)
    spelled, position = name, 0
    for part in re.findall(r"[A-Za-z]+", name):
        match = next((i for i in range(position, len(words)) if writes_name(part, words[i])), None)
        if match is None:
            return None
        word = words[match]
        spelling = next(filter(None, (news_spelling(bare, part) for bare in _unprefixed(word))), None)
        if spelling is None:
            return None
        spelled = re.sub(rf"\b{part}\b", spelling, spelled, count=1)
        position = match + 1
    return spelled


def _unprefixed(word: str) -> list[str]:
    """The word, then without a leading «و», «ب», «ل» or «ال» that names do not begin with."""
    return [word, *(word[len(p):] for p in _ARABIC_PREFIXES if word.startswith(p) and len(word) - len(p) >= 2)]


def _spells(word: str, arabic_text: str) -> bool:
    """True when the word writes a name of `arabic_text` by more than a letter or two ("Yury" is
    just "r" in a skeleton: it could be anything)."""
    return len(latin_skeleton(re.sub(r"['’]s$", "", word))) > _MIN_CHECKED and writes_name(word, arabic_text)


def _covering_span(names: list[str], arabic: list[str]) -> str | None:
    """The fewest adjacent Arabic words that write every one of `names`."""
    for length in range(1, len(arabic) + 1):
        for start in range(len(arabic) - length + 1):
            span = " ".join(arabic[start:start + length])
            if all(writes_name(name, span) for name in names):
                return span
    return None
