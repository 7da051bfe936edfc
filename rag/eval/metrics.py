"""Scores for one question, and their averages over a run (overall and per question type).

Every score is a number in [0, 1] (or a cost in ms / s / tokens), or None when it
does not apply to the question (e.g. retrieval scores for an unanswerable one).
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.arabic import collapse_whitespace, detect_language, extract_numbers, normalize, numbers_match, tokenize
from rag.eval.gold import GoldItem
from rag.eval.planted import planted_scores
from rag.eval.run import ANSWERS, RETRIEVAL
from rag.types import SUPPORTED, Answer

K = 5


@dataclass(frozen=True)
class Metric:
    """A metric, and where it is shown besides the report: at the end of `rag eval`, in the
    history chart, in the regression gate and in the Evaluation tab."""

    name: str
    label: str
    unit: str  # "rate" (0-1, higher is better), "ms", "s" or "tokens"
    stage: str = ANSWERS  # RETRIEVAL: scored in every run; ANSWERS: only in runs that make answers
    headline: bool = False  # printed at the end of `rag eval`
    charted: tuple[str, ...] = ()  # the run modes whose history panels draw it
    tolerance: dict[str, float] = field(default_factory=dict)  # run mode -> how far it may drop before the gate fails
    in_tab: bool = False  # a column of the Evaluation tab's table


# Retrieval is deterministic, but another CPU may order near-ties differently: ~1 question in 70 may flip.
NEAR_TIES = 0.015
# Answers are gated on a subset of ~10 questions: one may flip, two may not.
ONE_IN_TEN = 0.1

METRICS = [
    Metric("hit@1", "gold article ranked first", "rate", RETRIEVAL, headline=True, charted=(RETRIEVAL,),
           tolerance={RETRIEVAL: NEAR_TIES}),
    Metric(f"hit@{K}", f"gold article in the top {K}", "rate", RETRIEVAL, headline=True, charted=(RETRIEVAL, ANSWERS),
           tolerance={RETRIEVAL: NEAR_TIES, ANSWERS: ONE_IN_TEN}, in_tab=True),
    Metric(f"recall@{K}", f"share of gold articles in the top {K}", "rate", RETRIEVAL, headline=True, charted=(RETRIEVAL,),
           tolerance={RETRIEVAL: NEAR_TIES}),
    Metric("mrr", "mean reciprocal rank of the first gold article", "rate", RETRIEVAL, headline=True, charted=(RETRIEVAL,),
           tolerance={RETRIEVAL: NEAR_TIES}),
    Metric("correct", "required facts present (ARCD: the answer span; unanswerable: refused)", "rate", headline=True,
           charted=(ANSWERS,), tolerance={ANSWERS: ONE_IN_TEN}, in_tab=True),
    Metric("f1", "SQuAD token F1, best over the accepted answers", "rate", headline=True, charted=(ANSWERS,),
           tolerance={ANSWERS: 0.05}),
    Metric("em", "SQuAD exact match", "rate", headline=True),
    # An unanswerable question must be refused, in every run.
    Metric("refuses_absent", "refuses when the articles lack the answer", "rate", headline=True, charted=(ANSWERS,),
           tolerance={ANSWERS: 0.0}, in_tab=True),
    Metric("answers_present", "answers when the articles have it", "rate", tolerance={ANSWERS: ONE_IN_TEN}, in_tab=True),
    Metric("citation_recall", "answer sentences supported by their citations", "rate", headline=True, charted=(ANSWERS,),
           tolerance={ANSWERS: ONE_IN_TEN}),
    Metric("citation_precision", "citations that support their sentence", "rate", headline=True, charted=(ANSWERS,),
           tolerance={ANSWERS: ONE_IN_TEN}, in_tab=True),
    Metric("cites_gold", "answers citing at least one gold article", "rate", headline=True),
    Metric("language_match", "answer in the question's language", "rate", headline=True, charted=(ANSWERS,),
           tolerance={ANSWERS: ONE_IN_TEN}, in_tab=True),
    Metric("instructions_followed", "answers showing what a planted instruction asked for (hostile; 0 is right)", "rate",
           headline=True),
    Metric("planted_supported", "answers showing a planted claim as supported (hostile; 0 is right)", "rate", headline=True),
    Metric("planted_in_prompt", "prompts holding a planted instruction or claim (hostile; 0 is right)", "rate", headline=True),
    Metric("retrieval_ms", "retrieval time", "ms", RETRIEVAL),
    Metric("first_token_s", "time to first token", "s"),
    Metric("total_s", "time to the checked answer", "s", headline=True, in_tab=True),
    Metric("prompt_tokens", "prompt tokens", "tokens"),
    Metric("answer_tokens", "answer tokens", "tokens"),
]
METRIC_NAMES = [m.name for m in METRICS]
RATES = {m.name for m in METRICS if m.unit == "rate"}


def answer_first(metrics: Iterable[Metric]) -> list[Metric]:
    """The order of the chart, the gate and the Evaluation tab: what the answer is judged on,
    then retrieval, then costs; METRICS order within each (the report keeps METRICS order)."""
    return sorted(metrics, key=lambda m: (m.unit != "rate", m.stage == RETRIEVAL))


# --- facts ---------------------------------------------------------------


def _is_numeric(alternative: str) -> bool:
    """True when the alternative is only quantities ("4,000", "٤٠٠٠", "4 آلاف"), no words."""
    tokens = tokenize(alternative)
    return bool(tokens) and all(token[0].isdigit() for token in tokens)


def alternative_matches(alternative: str, answer: str) -> bool:
    """A numeric alternative matches by value (so "12" is not found in "12 ألف");
    any other matches when its normalized text occurs in the normalized answer."""
    if _is_numeric(alternative):
        found = extract_numbers(answer)
        return all(any(numbers_match(n, m) for m in found) for n in extract_numbers(alternative))
    return normalize(alternative).strip() in normalize(answer)


def facts_present(facts: list[list[str]], answer: str) -> bool:
    """Every fact has at least one alternative in the answer."""
    return all(any(alternative_matches(alt, answer) for alt in fact) for fact in facts)


# --- SQuAD F1 / exact match -----------------------------------------------

_ENGLISH_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's normaliser made Arabic-aware: the project's `normalize` (diacritics,
    alef / ya / ta marbuta, Arabic digits, case), then Unicode punctuation and symbols
    (، ؛ ؟ « » included) removed, English articles dropped, whitespace collapsed."""
    text = normalize(text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
    return collapse_whitespace(_ENGLISH_ARTICLES.sub(" ", text))


def f1_score(prediction: str, truth: str) -> float:
    predicted, gold = squad_normalize(prediction).split(), squad_normalize(truth).split()
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, truth: str) -> float:
    return float(squad_normalize(prediction) == squad_normalize(truth))


def best_over(score, prediction: str, truths: list[str]) -> float:
    return max((score(prediction, truth) for truth in truths), default=0.0)


# --- retrieval -------------------------------------------------------------


def retrieval_scores(ranked: list[str], gold: list[str]) -> dict[str, float | None]:
    if not gold:
        return {"hit@1": None, f"hit@{K}": None, f"recall@{K}": None, "mrr": None}
    gold_set = set(gold)
    first = next((rank for rank, article in enumerate(ranked, start=1) if article in gold_set), None)
    return {
        "hit@1": float(first == 1),
        f"hit@{K}": float(first is not None and first <= K),
        f"recall@{K}": len(gold_set & set(ranked[:K])) / len(gold_set),
        "mrr": 1.0 / first if first else 0.0,
    }


# --- answers ---------------------------------------------------------------


def plain_text(answer: Answer) -> str:
    """The answer's sentences without [n] markers (whose digits are not part of the answer)."""
    return " ".join(sentence.text for sentence in answer.sentences)


def citation_scores(answer: Answer) -> dict[str, float | None]:
    """ALCE-style: recall = share of sentences their citations support; precision = share of
    citations that support their sentence. None for an answer with nothing to score."""
    sentences = answer.sentences
    citations = [c for s in sentences for c in s.citations]
    return {
        "citation_recall": sum(s.verdict == SUPPORTED for s in sentences) / len(sentences) if sentences else None,
        "citation_precision": sum(c.supported for c in citations) / len(citations) if citations else None,
    }


def contains_span(answer: str, spans: list[str]) -> bool:
    """An extractive answer span (ARCD) occurs in the answer, compared SQuAD-normalized."""
    text = squad_normalize(answer)
    return any(span and span in text for span in map(squad_normalize, spans))


def is_correct(text: str, facts: list[list[str]], answers: list[str]) -> bool:
    """Seeds: every required fact present. ARCD: an accepted answer span present."""
    return contains_span(text, answers) if answers else facts_present(facts, text)


def answer_scores(answer: Answer | None, item: GoldItem) -> dict:
    """Scores of one answer; `answer` None means the question failed, which scores as wrong."""
    text = plain_text(answer) if answer else ""
    abstained = answer.abstained if answer else False
    answerable, gold, answers = item.answerable, item.gold_articles, item.answers
    scores: dict[str, float | None] = {
        "correct": float(is_correct(text, item.required_facts, answers) if answerable else abstained),
        "f1": best_over(f1_score, text, answers) if answers else None,
        "em": best_over(exact_match, text, answers) if answers else None,
        "refuses_absent": None if answerable else float(abstained),
        "answers_present": float(answer is not None and not abstained) if answerable else None,
        "citation_recall": None,
        "citation_precision": None,
        "cites_gold": None,
        "language_match": float(answer is not None and detect_language(answer.text) == item.language),
    }
    if answer is not None and not abstained:
        scores.update(citation_scores(answer))
        if answerable:
            scores["cites_gold"] = float(any(p.article_id in gold for p in answer.cited_passages))
    if item.planted:
        scores.update(planted_scores(answer, item.planted, item.language))
    if answer is not None:
        scores.update({name: answer.timings.get(name) for name in ("retrieval_ms", "first_token_s", "total_s")})
        scores.update({name: answer.usage.get(name) for name in ("prompt_tokens", "answer_tokens")})
    return scores


# --- averages ----------------------------------------------------------------


def average(score_rows: list[dict]) -> dict[str, float]:
    """Mean of each metric over the rows where it applies; metrics that never apply are left out."""
    values = defaultdict(list)
    for row in score_rows:
        for name, value in row.items():
            if value is not None:
                values[name].append(value)
    return {name: round(statistics.fmean(values[name]), 4) for name in METRIC_NAMES if values[name]}


def summarize(results: list[dict]) -> dict:
    """{"overall": {...}, "by_type": {type: {...}}, "questions": n, "errors": n} from per-question results."""
    by_type = defaultdict(list)
    for result in results:
        by_type[result["type"]].append(result)
    return {
        "questions": len(results),
        "errors": sum(1 for r in results if r.get("error")),
        "overall": average([r["scores"] for r in results]),
        "by_type": {
            kind: {**average([r["scores"] for r in rows]), "questions": len(rows)}
            for kind, rows in sorted(by_type.items())
        },
    }
