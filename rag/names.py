"""Names across scripts: is the English name "Gerasimov" a transliteration of a word in an Arabic passage?

Both spellings are reduced to a consonant skeleton (vowels, semi-vowels and h dropped;
letters that the two scripts confuse merged into one class): "Gerasimov" and "غيراسيموف"
are both "grsmf", "Pyongyang" and "بيونغ يانغ" both "bngng". A made-up name ("General
Walis") has no word in the passage with its skeleton.
"""
from __future__ import annotations

import re

from rag.arabic import normalize

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


def _arabic_keys(text: str) -> set[str]:
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
    return {key for key in keys if key}


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
""".split())


def unmatched_names(sentence: str, arabic_text: str, known: str = "") -> list[str]:
    """The capitalised words of an English sentence that are names and are not in `arabic_text`.

    Words the question (`known`) already uses are the user's own spelling and are not checked."""
    return [word for word, found in _names(sentence, arabic_text, known) if not found]


def transliterated_names(sentence: str, arabic_text: str, known: str = "") -> list[str]:
    """The names of an English sentence that transliterate words of `arabic_text` (not the question's own)."""
    return [word for word, found in _names(sentence, arabic_text, known) if found]


def _names(sentence: str, arabic_text: str, known: str) -> list[tuple[str, bool]]:
    """(name, whether `arabic_text` writes it) for each capitalised word of the sentence that is a name."""
    known_words = {w.lower() for w in re.findall(r"[A-Za-z][\w'-]*", known)}
    names = []
    for word in re.findall(r"\b[A-Z][A-Za-z'’-]+", sentence):
        parts = [part for part in re.split(r"[-'’]", word) if part]
        if word.lower() in _NOT_NAMES or word.lower() in known_words or re.sub(r"'s$", "", word).lower() in _NOT_NAMES:
            continue
        names.append((word, all(transliterates(part, arabic_text) or part.lower() in _NOT_NAMES for part in parts)))
    return names
