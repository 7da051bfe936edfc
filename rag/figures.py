"""Every source's figure: when articles give different numbers for what a count question asks.

Found in code, not left to the model: the clauses of the retrieved chunks that state a number
the question did not give and sit in a sentence about the question's focus, grouped by
article. When two articles give different values, each one is shown with its citation.
"""
from __future__ import annotations

from dataclasses import dataclass

from rag.answerability import LexicalStatistics, contains_term, coverage
from rag.arabic import split_clauses, split_sentences, term_keys
from rag.casualties import counted_together
from rag.question import COUNT, Question
from rag.relevance import is_year, names_counted, new_numbers
from rag.types import Hit

# A figure's sentence must hold the question's known focus terms by at least this share of their weight.
MAX_FIGURE_MISSING_SHARE = 0.5


@dataclass
class Figure:
    article_id: str
    headline: str
    chunk_id: str
    values: tuple[float, ...]  # the numbers the clause states, in order
    clause: str  # verbatim from the article
    start: int  # clause offsets in the cleaned article text
    end: int
    missing_share: float  # how far its sentence is from the question's focus; lower is closer


MAX_FIGURES = 5
FIGURE_REASON = "the articles differ: a figure quoted from this passage"  # opens the citation's reason


def collect_figures(question: Question, hits: list[Hit], statistics: LexicalStatistics) -> list[Figure]:
    """The figures for a count question in the index's language: one clause per distinct value,
    the one whose sentence is closest to the question's focus, closest first."""
    if question.asks != COUNT or question.language != "ar":
        return []
    best: dict[tuple[float, ...], Figure] = {}
    for hit in hits:
        text = hit.chunk.text
        for s_start, s_end in split_sentences(text):
            found = coverage(question, [text[s_start:s_end]], statistics, known_only=True)
            if not found.found or found.missing_share >= MAX_FIGURE_MISSING_SHARE:
                continue
            for c_start, c_end in split_clauses(text, s_start, s_end):
                keys = term_keys(text[c_start:c_end])
                # the clause must itself name what is counted, not only its sentence: the counted
                # noun with its adjectives when the question has one, else a focus term
                names_it = names_counted(text[c_start:c_end], question.counted) if question.counted else contains_any(keys, found.found)
                if not names_it:
                    continue
                values = tuple(v for v in new_numbers(text[c_start:c_end], question) if not is_year(v))
                if not values or question.casualties and counted_together(question.casualties, [text[c_start:c_end]]):
                    continue  # no figure, or one of the killed and wounded together for the killed alone
                figure = Figure(
                    hit.chunk.article_id, hit.chunk.headline, hit.chunk.id, values, text[c_start:c_end],
                    hit.chunk.start + c_start, hit.chunk.start + c_end, found.missing_share,
                )
                current = best.get(values)
                if current is None or figure.missing_share < current.missing_share:
                    best[values] = figure
    return sorted(best.values(), key=lambda f: f.missing_share)[:MAX_FIGURES]


def disagreeing(figures: list[Figure]) -> list[Figure]:
    """The figures, when articles differ: two or more values, from two or more articles; else []."""
    if len({f.values for f in figures}) > 1 and len({f.article_id for f in figures}) > 1:
        return figures
    return []


def contains_any(keys: set[str], terms: list[str]) -> bool:
    return any(contains_term(keys, term) for term in terms)
