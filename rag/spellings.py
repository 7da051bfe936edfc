"""English spellings of the Arabic names of people, as English text writes them.

The small model's English spellings of Arabic names are guesses ("Shyguo" for «شويغو», "Zilensky"
for «زيلنسكي»). English text has settled spellings for the names the news repeats, and wordfreq's
English word list (drawn from news, Wikipedia, books, subtitles and the web; offline, in the
package) holds them as words: "shoigu", "zelensky", "rudenko", "mykolaiv". An Arabic name is
spelled with a word of that list that its letters can write: each Arabic letter as English writes
it (ش as "sh" or "ch", و as "o", "u" or "w", ...), with at most one short vowel, which Arabic does
not write, between two letters. Of the words that fit, the one nearest the model's own spelling
is taken ("Zilensky" -> "zelensky", not the Polish "zielinski"), the most frequent on a tie; when
the guess is as near two different names, or no word fits, the caller shows the name in Arabic.
The guess still decides between names that fit the same letters: "Biskoff" for «بيسكوف» gets
"Biscoff", not "Peskov".
"""
from __future__ import annotations

import re
from functools import cache

from rag.arabic import normalize

# How English writes each Arabic letter, normalised (أ, إ and آ are ا; ة is ه; ى and ئ are ي; ؤ is و).
# "" marks a letter English may leave unwritten: a long vowel, a glottal stop, a final ه. (Its
# apostrophe for a glottal stop is left out: the word list is searched for words of letters only.)
_SPELLINGS = {
    "ا": ("", "a", "e", "o", "i", "aa"), "ء": ("",), "ع": ("", "a", "e", "i", "o", "u"),
    "ب": ("b", "bb", "p", "pp"), "ت": ("t", "tt"), "ث": ("th", "s"), "ج": ("j", "g", "zh", "dj", "dzh"),
    "ح": ("h", "kh"), "خ": ("kh", "h", "ch"), "د": ("d", "dd"), "ذ": ("dh", "z", "th"), "ر": ("r", "rr"),
    "ز": ("z", "zz", "s"), "س": ("s", "ss", "c"), "ش": ("sh", "ch", "sch"), "ص": ("s", "ss"), "ض": ("d", "dh"),
    "ط": ("t", "tt"), "ظ": ("z", "dh"), "غ": ("gh", "g", "h"), "ف": ("f", "ff", "v", "ph"), "ق": ("q", "k", "g"),
    "ك": ("k", "c", "ck", "ch"), "ل": ("l", "ll"), "م": ("m", "mm"), "ن": ("n", "nn"), "ه": ("", "h", "e", "a"),
    "و": ("w", "o", "u", "v", "ou", "oo", "ow"), "ي": ("y", "i", "e", "ei", "ey", "ai", "ay", "ee", "ie", "yi"),
}
_SHORT_VOWEL = "[aeiou]?"  # between two letters: the short vowels Arabic does not write
MAX_VARIANT_EDITS = 2  # spellings this close are one name's ("shoigu", "shoygu"), further apart two names'


def _pattern(letters: str) -> re.Pattern:
    alternatives = ["(?:" + "|".join(s for s in _SPELLINGS[letter] if s) + ")" + ("?" if "" in _SPELLINGS[letter] else "")
                    for letter in letters]
    return re.compile(_SHORT_VOWEL.join(alternatives))


def _initials(letters: str) -> set[str]:
    """The letters an English spelling of `letters` can begin with."""
    initials = set()
    for letter in letters:
        initials |= {spelling[0] for spelling in _SPELLINGS[letter] if spelling}
        if "" not in _SPELLINGS[letter]:
            break
    return initials


@cache
def _words_by_initial() -> dict[str, list[str]]:
    """wordfreq's English words of letters only, most frequent first, by their first letter."""
    from wordfreq import iter_wordlist  # loaded on the first English answer that names someone

    words: dict[str, list[str]] = {}
    for word in iter_wordlist("en", "large"):
        if word.isascii() and word.isalpha():
            words.setdefault(word[0], []).append(word)
    return words


def english_spellings(arabic_word: str) -> list[str]:
    """The English words that the letters of `arabic_word` can write, most frequent first."""
    letters = normalize(arabic_word)
    if not letters or any(letter not in _SPELLINGS for letter in letters):
        return []  # not an Arabic word
    pattern, words = _pattern(letters), _words_by_initial()
    found = [(rank, word) for initial in _initials(letters) for rank, word in enumerate(words.get(initial, [])) if pattern.fullmatch(word)]
    return [word for _, word in sorted(found)]


def news_spelling(arabic_word: str, guess: str) -> str | None:
    """How English writes the name `arabic_word`: of its English spellings, the one nearest the
    model's `guess`, written in the guess's case ("Shoigu", "sik"); None when it has none."""
    distances = {word: _edits(word, guess.lower()) for word in english_spellings(arabic_word)}
    if not distances:
        return None
    nearest = min(distances.values())
    tied = [word for word, distance in distances.items() if distance == nearest]  # most frequent first
    if any(_edits(word, tied[0]) > MAX_VARIANT_EDITS for word in tied):
        return None  # the guess is as near two different names: unsure
    return tied[0].capitalize() if guess[:1].isupper() else tied[0]


def only_spelling(arabic_word: str) -> str | None:
    """How English writes `arabic_word` when all its English spellings are variants of one name
    ("gerasimov"; "shoigu", "shoygu"), the most frequent; None when it has none, or several names
    ("valerie", "fleury"): wordfreq's list fits common words to most letters («صحيفة»: "shiva", "sheaf")."""
    spellings = english_spellings(arabic_word)
    if spellings and all(_edits(other, spellings[0]) <= MAX_VARIANT_EDITS for other in spellings):
        return spellings[0]
    return None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]
