"""The deterministic citation checker: does passage [n] back the sentence that cites it?

A citation is supported when every number in the sentence occurs in the passage and
the passage covers the sentence: enough shared content words when both are in the
same language; across languages, every name the English sentence writes must be a
transliteration of a word of the passage (rag.names), and the embedding similarity
must be high enough.

A passage that speaks to the assistant (rag.instructions) supports nothing, and a sentence
that carries a link or our own prompt's words that its passages do not hold is not shown.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from rag.arabic import content_terms, detect_language, extract_numbers, normalize, numbers_match, plain_number, split_sentences
from rag.draft import CITATION_MARKER, restates_question
from rag.instructions import is_instruction
from rag.names import names_spelled_from, unmatched_names
from rag.prompt import quotes_prompt
from rag.relevance import MONTHS, months_named, weekdays_named
from rag.sentence_vectors import SentenceVectors, unit
from rag.types import Citation, Passage, Sentence

if TYPE_CHECKING:
    from rag.backends import Embedder

Similarity = Callable[[str, str], float]

MIN_OVERLAP = 0.5
# On the seeds: paraphrases 0.809-0.906 (37/38 pass), false claims 0.732-0.838 (22/24 fail), others p90 0.819
MIN_SIMILARITY = 0.82


_MONTH_TERMS = frozenset(term for names in MONTHS for term in content_terms(names))


class _Facts(NamedTuple):
    numbers: tuple[float, ...]
    terms: frozenset[str]
    language: str


@lru_cache(maxsize=2048)
def _facts(text: str) -> _Facts:
    return _Facts(tuple(extract_numbers(text)), frozenset(content_terms(text)), detect_language(text))


def _judge(
    text: str, passage: str, similarity: Similarity | None, min_overlap: float, min_similarity: float
) -> tuple[bool, str]:
    """(supported, reason) for one sentence against one passage."""
    if is_instruction(passage):
        return False, "the passage gives the assistant orders: it is not news"
    sentence, source = _facts(text), _facts(passage)
    for number in sentence.numbers:
        if not any(numbers_match(number, other) for other in source.numbers):
            return False, f"number {plain_number(number)} not in passage"
    if sentence.language == source.language:
        if not sentence.terms:
            if sentence.numbers:
                return True, "numbers match"
            return False, "no content words or numbers to check"
        overlap = len(sentence.terms & source.terms) / len(sentence.terms)
        if overlap >= min_overlap:
            return True, f"overlap {overlap:.2f} >= {min_overlap:g}"
        return False, f"overlap {overlap:.2f} < {min_overlap:g}"
    names = unmatched_names(text, passage) if sentence.language == "en" and source.language == "ar" else []
    if names:
        return False, f"name not in passage: {', '.join(names)}"
    if similarity is not None:
        score = similarity(text, passage)
        if score >= min_similarity:
            return True, f"similarity {score:.2f} >= {min_similarity:g}"
        return False, f"similarity {score:.2f} < {min_similarity:g}"
    if sentence.numbers:
        return True, "other language: numbers match"
    return False, "other language and no numbers to check"


def check_sentence(
    text: str,
    cited: dict[int, str],
    *,
    similarity: Similarity | None = None,
    min_overlap: float = MIN_OVERLAP,
    min_similarity: float = MIN_SIMILARITY,
) -> list[Citation]:
    """One Citation per cited passage number, saying whether that passage supports `text`."""
    citations = []
    for number, passage in cited.items():
        if isinstance(passage, str) and passage.strip():
            supported, reason = _judge(text, passage, similarity, min_overlap, min_similarity)
        else:
            supported, reason = False, f"no passage [{number}]"
        citations.append(Citation(passage=number, supported=supported, reason=reason))
    return citations


def check_answer(
    sentences: list[tuple[str, list[int]]],
    passages: list[Passage],
    *,
    similarity: Similarity | None = None,
) -> list[Sentence]:
    """Check every (sentence, cited numbers) pair; numbers that name no passage are dropped,
    and so are sentences that are not the articles' (`_not_from_articles`).

    Small models often state a fact right and cite the wrong passage. When no cited passage
    backs a sentence but another shown passage does, the citation moves there, and its
    reason says so; a sentence no passage backs keeps its failed citations.
    """
    texts = {passage.number: passage.text for passage in passages}
    checked = []
    for text, numbers in sentences:
        cited = {number: texts[number] for number in dict.fromkeys(numbers) if number in texts}
        if _not_from_articles(text, cited.values()):
            continue
        citations = check_sentence(text, cited, similarity=similarity)
        if not any(c.supported for c in citations):
            citations = _moved_citation(text, cited, texts, similarity) or citations
        checked.append(Sentence(text=text, citations=citations))
    return checked


def check_english_answer(sentence: str, answer_words: str, passage: str, question: str, *, name_asked: bool = False) -> tuple[bool, str]:
    """(supported, reason) for an English sentence made from a question and the answer words copied
    from an Arabic passage: it must be English, say more than the question, give the answer's numbers,
    and every number, name, month and weekday in it must be the passage's (or the question's own).
    When the question asks for a name (`name_asked`: a person, an organisation, a place), the sentence
    must give one the copied words write: a sentence naming nothing of them answers something else."""
    if detect_language(sentence) != "en":
        return False, "not written in English"
    known = extract_numbers(passage) + extract_numbers(question)
    for number in extract_numbers(sentence):
        if not any(numbers_match(number, other) for other in known):
            return False, f"number {plain_number(number)} not in passage"
    stated = extract_numbers(sentence)
    for number in extract_numbers(answer_words):
        if not any(numbers_match(number, other) for other in stated):
            return False, f"the answer's number {plain_number(number)} is missing"
    names = unmatched_names(sentence, passage, known=question)
    if names:
        return False, f"name not in passage: {', '.join(names)}"
    if name_asked and not names_spelled_from(sentence, answer_words, known=question):
        return False, "names nothing the copied words write"
    months = months_named(sentence) - months_named(passage) - months_named(question)
    days = weekdays_named(sentence) - weekdays_named(passage) - weekdays_named(question)
    if months or days:
        said = [calendar.month_name[month] for month in sorted(months)] + sorted(day.capitalize() for day in days)
        return False, f"date not in passage: {', '.join(said)}"
    if restates_question(sentence, question):
        return False, "says nothing the question did not"
    added = _added_words(sentence, question, answer_words, passage)
    if added:
        return False, f"adds words that neither the question nor the copied answer has: {', '.join(sorted(added))}"
    return True, "English answer: its numbers and names are the passage's"


# Units an English sentence may give a bare figure when the passage writes them (normalised Arabic forms).
UNITS = {
    "mm": ("ملم", "مم", "ملليمتر", "مليمتر"), "millimet": ("ملم", "مم", "ملليمتر", "مليمتر"),
    "km": ("كم", "كيلومتر"), "kilomet": ("كم", "كيلومتر"), "kg": ("كغ", "كيلوغرام", "كيلوجرام"),
    "ton": ("طن", "اطنان"), "percent": ("%", "بالميه", "بالمايه"), "dollar": ("دولار", "دولارات"),
}


def _added_words(sentence: str, question: str, answer_words: str, passage: str) -> set[str]:
    """When the copied answer is only a figure or a date ("12", "28 أبريل 2025"), the sentence may
    say nothing else: words beyond the question's, the answer's, month names and units the passage
    writes are the model's own ("12 kilometers" for a range the passage never gives)."""
    if content_terms(answer_words) - _MONTH_TERMS:
        return set()
    words = set(re.findall(r"%|[^\W\d_]+", normalize(passage)))
    words |= {word.removeprefix("و").removeprefix("ب").removeprefix("ال") for word in words}
    units = {unit for unit, spellings in UNITS.items() if words & set(spellings)}
    known = content_terms(question) | content_terms(answer_words) | _MONTH_TERMS | units
    return {term for term in content_terms(sentence) - known if not any(_same_word(term, k) for k in known)}


def _same_word(a: str, b: str) -> bool:
    """"calibr" / "calib", "report" / "reportedly": the stemmer cuts inflections unevenly."""
    shorter = min(len(a), len(b))
    return shorter >= 4 and a[:shorter] == b[:shorter]


# A web address: with a scheme or www., or a bare host name under a common top-level domain.
_LINK = re.compile(r"(?:https?://|www\.)[^\s)\]]+|\b[\w-]+(?:\.[\w-]+)*\.(?:example|com|org|net|io|ru|kp|info|xyz|ly)\b[^\s)\]]*", re.IGNORECASE)


def _not_from_articles(text: str, cited: Iterable[str]) -> bool:
    """True for a sentence with a link or words of our own prompt that no cited passage holds
    verbatim: what a planted instruction asks the model to print, never an article's news."""
    cited = list(cited)
    links = [link.rstrip(".,;:!?؟،") for link in _LINK.findall(text)]
    if any(not any(link in passage for passage in cited) for link in links):
        return True
    return quotes_prompt(text) and not any(text in passage for passage in cited)


def _moved_citation(
    text: str, cited: dict[int, str], texts: dict[int, str], similarity: Similarity | None
) -> list[Citation]:
    """The first uncited passage that supports `text`, as its one citation; [] if none does."""
    was = "".join(f"[{n}]" for n in cited) or "nothing"
    for number, passage in texts.items():
        if number in cited:
            continue
        (citation,) = check_sentence(text, {number: passage}, similarity=similarity)
        if citation.supported:
            return [Citation(passage=number, supported=True, reason=f"model cited {was}; {citation.reason}")]
    return []


_MARKER_WITH_SPACE = re.compile(rf"\s*{CITATION_MARKER.pattern}")
_LEADING_MARKERS = re.compile(rf"(?:\s*{CITATION_MARKER.pattern})+")


def _marker_numbers(text: str) -> list[int]:
    """Numbers of every [n] marker in `text`, first occurrence first; int() reads "١" as 1."""
    numbers = [int(digits) for marker in CITATION_MARKER.findall(text) for digits in re.findall(r"\d+", marker)]
    return list(dict.fromkeys(numbers))


def _cite_previous(parsed: list[tuple[str, list[int]]], numbers: list[int]) -> None:
    text, cited = parsed[-1]
    parsed[-1] = (text, list(dict.fromkeys(cited + numbers)))


def parse_cited_text(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without [n] markers, cited numbers) for each sentence of a free-text answer.

    Markers that open a sentence ("troops.[1] Then ...") belong to the sentence before.
    """
    parsed: list[tuple[str, list[int]]] = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and parsed:
            _cite_previous(parsed, _marker_numbers(leading[0]))
            sentence = sentence[leading.end():]
        numbers = _marker_numbers(sentence)
        plain = _MARKER_WITH_SPACE.sub("", sentence).strip()
        if plain:
            parsed.append((plain, numbers))
        elif parsed:
            _cite_previous(parsed, numbers)
    return parsed


def e5_similarity(embedder: Embedder, passage_sentences: SentenceVectors) -> Similarity:
    """Cosine between the query embedding of a sentence and its closest passage sentence.

    Scoring sentence by sentence keeps long passages from diluting the match. The passage
    sentences' vectors are mostly the ones stored at ingest.
    """

    @lru_cache(maxsize=4096)
    def sentence_vector(sentence: str) -> np.ndarray:
        return unit(embedder.embed_queries([sentence])[0])

    def similarity(sentence: str, passage: str) -> float:
        pieces = [passage[start:end] for start, end in split_sentences(passage)] or [passage]
        return float(np.max(passage_sentences.of(pieces) @ sentence_vector(sentence)))

    return similarity
