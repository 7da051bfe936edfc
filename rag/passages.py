"""Passage selection: the sentences of the retrieved chunks that go into the prompt.

The prompt holds only the most relevant sentences of each retrieved chunk: prompt size is
the latency on a CPU. A sentence that instructs the model (rag.instructions) is never one of them,
nor one that repeats another's words (the same paragraph indexed twice), nor a bare title.
"""
from __future__ import annotations

import numpy as np

from rag.arabic import content_terms, detect_language, plain_words, split_sentences
from rag.chunk import count_tokens
from rag.english_cues import EnglishCues
from rag.instructions import is_instruction
from rag.sentence_vectors import SentenceVectors, unit
from rag.types import Hit, Passage


# An English question is about as close to every sentence of an Arabic chunk (cross-language e5
# similarities lie within a few hundredths), so the sentence that answers it ranks lower among
# its chunk's than an Arabic question's would: it gets a fifth more room. Measured on the gold
# set (eval/README.md); a fifth more for Arabic questions too lost 4 of 100 ARCD answers, the
# small model picking from more passages.
ENGLISH_ROOM = 1.2


def select_passages(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    sentence_vectors: SentenceVectors,
    budget_tokens: int,
    per_hit: int = 2,
) -> list[Passage]:
    """The sentences of the retrieved chunks that best match the question, within the token budget
    (ENGLISH_ROOM times it for an English question).

    First the best sentence of every hit (in rank order), then the runners-up, so a
    lower-ranked article still gets a voice before a top one gets a second sentence.
    """
    if detect_language(question) == "en":
        budget_tokens = round(budget_tokens * ENGLISH_ROOM)
    candidates: list[tuple[Hit, int, int]] = []  # (hit, start, end) in article offsets
    seen: set[tuple[str, int] | str] = set()
    for hit in hits:
        for s_start, s_end in split_sentences(hit.chunk.text):
            text = hit.chunk.text[s_start:s_end]
            key, words = (hit.chunk.article_id, hit.chunk.start + s_start), plain_words(text)
            if key in seen or words in seen or is_instruction(text) or _only_title(words, hit.chunk.headline):
                continue
            seen |= {key, words}
            candidates.append((hit, hit.chunk.start + s_start, hit.chunk.start + s_end))
    if not candidates:
        return []
    texts = [hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start] for hit, start, end in candidates]
    scores = _relevance(question, question_vector, texts, sentence_vectors)
    by_hit: dict[str, list[int]] = {}
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        by_hit.setdefault(candidates[i][0].chunk.id, []).append(i)
    order = [by_hit[hit.chunk.id][round_] for round_ in range(per_hit) for hit in hits if len(by_hit.get(hit.chunk.id, [])) > round_]
    chosen: list[int] = []
    used = 0
    for i in order:
        cost = count_tokens(texts[i]) + 4
        if used + cost > budget_tokens and chosen:
            continue
        chosen.append(i)
        used += cost
    return [
        Passage(
            number=n,
            article_id=candidates[i][0].chunk.article_id,
            headline=candidates[i][0].chunk.headline,
            text=texts[i],
            start=candidates[i][1],
            end=candidates[i][2],
            chunk_id=candidates[i][0].chunk.id,
        )
        for n, i in enumerate(chosen, start=1)
    ]


# A sentence of this many words or fewer that is its article's headline is a title («حمزة بن عبد
# المطلب», «مسيحية»): it answers nothing. A longer headline is a sentence of news and stays.
MAX_TITLE_WORDS = 5


def _only_title(words: str, headline: str) -> bool:
    return len(words.split()) <= MAX_TITLE_WORDS and words == plain_words(headline)


def _relevance(question: str, question_vector: np.ndarray, sentences: list[str], sentence_vectors: SentenceVectors) -> list[float]:
    """Cosine similarity of e5 embeddings, nudged by the share of the question's words the sentence
    holds: its content words, or, for an English question, what crosses scripts (rag.english_cues)."""
    dense = sentence_vectors.of(sentences) @ unit(question_vector)
    if detect_language(question) == "en":
        cues = EnglishCues.of(question)
        lexical = [cues.share(text) for text in sentences]
    else:
        terms = content_terms(question)
        lexical = [len(terms & content_terms(t)) / len(terms) if terms else 0.0 for t in sentences]
    return [float(d) + 0.15 * l for d, l in zip(dense, lexical)]


def by_article(passages: list[Passage]) -> list[tuple[str, list[int]]]:
    """(headline, passage numbers) for each article the passages come from, in passage order."""
    articles: dict[str, tuple[str, list[int]]] = {}
    for passage in passages:
        articles.setdefault(passage.article_id, (passage.headline, []))[1].append(passage.number)
    return list(articles.values())
