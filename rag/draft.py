"""The model's answer as it streams: its JSON parsed into sentences with the passages they cite.

Tolerant of a cut-off end, so the chat shows sentences as they are written; passage
references written into the text become citations, and echoes of the question are spotted.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from rag.arabic import content_terms, extract_numbers, numbers_match


@dataclass
class DraftAnswer:
    """What the model has written so far, parsed from its (possibly unfinished) JSON."""

    found: bool | None
    sentences: list[tuple[str, list[int]]]  # complete sentences with their passage numbers
    partial: str  # the sentence being written, without citations yet


_FOUND = re.compile(r'"found"\s*:\s*(true|false)')
_SENTENCE = re.compile(r'\{\s*"text"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"passages"\s*:\s*\[([^\]]*)\]\s*\}')
_OPEN_TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*\\?)$')


def parse_draft(raw: str) -> DraftAnswer:
    """Parse the JSON the model is streaming; tolerant of a cut-off end."""
    try:
        data = json.loads(raw)
        sentences = [
            (str(item.get("text", "")).strip(), [int(n) for n in item.get("passages", []) if isinstance(n, int)])
            for item in data.get("sentences", [])
            if isinstance(item, dict)
        ]
        return DraftAnswer(bool(data.get("found")), _distinct(sentences), "")
    except (json.JSONDecodeError, AttributeError, TypeError):
        pass
    found_match = _FOUND.search(raw)
    found = None if found_match is None else found_match.group(1) == "true"
    sentences = []
    last_end = 0
    for match in _SENTENCE.finditer(raw):
        numbers = [int(n) for n in re.findall(r"\d+", match.group(2))]
        sentences.append((_unescape(match.group(1)).strip(), numbers))
        last_end = match.end()
    open_text = _OPEN_TEXT.search(raw[last_end:])
    partial = _unescape(open_text.group(1)) if open_text else ""
    return DraftAnswer(found, _distinct(sentences), partial)


@dataclass
class QuoteDraft:
    """What the model has written so far in the "quote" style: the answer words it copied and
    the passages it says state them."""

    answer: str
    passages: list[int]  # complete passage numbers, in the model's order
    done: bool  # the JSON is complete


_ANSWER = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)("?)')
_PICKED = re.compile(r'"passages"\s*:\s*\[([^\]]*)(\]?)')


def parse_quote(raw: str) -> QuoteDraft:
    """Parse the quote-style JSON the model is streaming; tolerant of a cut-off end."""
    try:
        data = json.loads(raw)
        numbers = [n for n in data.get("passages", []) if isinstance(n, int) and not isinstance(n, bool)]
        return QuoteDraft(str(data.get("answer", "")).strip(), list(dict.fromkeys(numbers)), True)
    except (json.JSONDecodeError, AttributeError, TypeError):
        pass
    answer = _ANSWER.search(raw)
    picked = _PICKED.search(raw)
    numbers: list[int] = []
    if picked:
        listed = picked.group(1)
        if not picked.group(2):  # the last number may still be being written
            listed = listed.rsplit(",", 1)[0] if "," in listed else ""
        numbers = [int(n) for n in re.findall(r"\d+", listed)]
    return QuoteDraft(_unescape(answer.group(1)).strip() if answer else "", list(dict.fromkeys(numbers)), False)


def _distinct(sentences: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """Drop empty sentences and repeats (small models sometimes write a sentence twice);
    passage references written into the text become citations."""
    seen: set[str] = set()
    kept = []
    for text, numbers in sentences:
        text, referenced = strip_passage_references(text)
        if text and text not in seen:
            seen.add(text)
            kept.append((text, list(dict.fromkeys(numbers + referenced))))
    return kept


# A citation marker as a model writes it: "[3]", "[ 3 ]", "[3, 4]", "[٣،٤]".
CITATION_MARKER = re.compile(r"\[\s*\d+(?:\s*[,،]\s*\d+)*\s*\]")
# One passage number in brackets, "[3]": the only marker render() writes.
RENDERED_MARKER = re.compile(r"\[(\d+)\]")
_SPACED_RENDERED_MARKER = re.compile(rf"\s*{RENDERED_MARKER.pattern}")

# The numbers after "Passage", bracketed or not: "1", "[1]", "1, 2 and 3"
_NUMBERS = r"\[?\s*\d+\s*\]?(?:\s*(?:,|،|and|و)\s*\[?\s*\d+\s*\]?)*"
_PASSAGE_WORD = r"(?:\b[Pp]assages?|(?:ال|لل|بال)?(?:مقطع|مقاطع))"
_PASSAGE_REFERENCES = [
    # "Based on the information provided in Passage 1, ..." / "وفقاً للمقطع 2، ..." / "المقاطع: [1] ..."
    re.compile(
        rf"^(?:(?:[Aa]ccording to|[Bb]ased on|[Aa]s (?:stated|mentioned|shown) in|[Ff]rom|[Ii]n)\b[^,.]{{0,60}}?"
        rf"|(?:وفقا|وفقاً|طبقا|طبقاً|بحسب|حسب|كما (?:جاء|ورد) في|في)\s*)?"
        rf"{_PASSAGE_WORD}\s*:?\s*{_NUMBERS}\s*[,،:]?\s*"
    ),
    # "(passage 2)", "in passages 1 and 3", "(المقطع 2)"
    re.compile(rf"\s*\(?(?:\b(?:in|see|from) |في )?{_PASSAGE_WORD}\s*:?\s*{_NUMBERS}\)?"),
    # "[1]", "[1, 2]"
    re.compile(rf"\s*{CITATION_MARKER.pattern}"),
]


def strip_passage_references(text: str) -> tuple[str, list[int]]:
    """The sentence without "Passage 1" / "المقطع 1" / "[1]" written into it, and the numbers it named.

    We render citations ourselves; a number left in the text would also read as a fact to check.
    """
    numbers: list[int] = []

    def take(match: re.Match) -> str:
        numbers.extend(int(n) for n in re.findall(r"\d+", match.group(0)))
        return ""

    for pattern in _PASSAGE_REFERENCES:
        text = pattern.sub(take, text)
    text = text.strip()
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text, list(dict.fromkeys(numbers))


def restates_question(sentence: str, question: str) -> bool:
    """True when the sentence says nothing the question did not: no new content word, no new number.

    A small model that finds no answer tends to echo the question, which its passage then "supports".
    """
    asked_numbers = extract_numbers(question)
    new_numbers = [n for n in extract_numbers(sentence) if not any(numbers_match(n, m) for m in asked_numbers)]
    return not new_numbers and content_terms(sentence) <= content_terms(question)


def _unescape(fragment: str) -> str:
    fragment = re.sub(r"\\u[0-9a-fA-F]{0,3}$|\\$", "", fragment)  # an escape cut in half
    try:
        return json.loads(f'"{fragment}"')
    except json.JSONDecodeError:
        return fragment


def render(sentences: list[tuple[str, list[int]]]) -> str:
    return " ".join(f"{text} {''.join(f'[{n}]' for n in numbers)}".strip() for text, numbers in sentences)


def without_rendered_markers(text: str) -> str:
    """Text that render() wrote, without its [n] markers and the spaces before them."""
    return _SPACED_RENDERED_MARKER.sub("", text)
