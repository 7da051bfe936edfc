"""Sentence-aware chunking sized in tiktoken o200k_base tokens.

Sentences (split on . ! ? ؟) are packed into chunks of at most `max_tokens`;
a sentence too long for a chunk is split on its clauses (، ؛), and a clause
still too long on word boundaries. Consecutive chunks share `overlap`
sentences. Every chunk is a span of the cleaned article text: text[start:end].
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import tiktoken

from rag.arabic import split_clauses, split_sentences
from rag.types import Article, Chunk

TOKENIZER = "o200k_base"


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(TOKENIZER)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def article_hash(article: Article) -> str:
    return hashlib.sha256(f"{article.headline}\n{article.text}".encode()).hexdigest()[:16]


def chunk_article(article: Article, max_tokens: int = 200, overlap: int = 1) -> list[Chunk]:
    text = article.text
    units = [span for start, end in split_sentences(text) for span in _fit(text, start, end, max_tokens)]
    digest = article_hash(article)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and count_tokens(text[units[first][0] : units[last + 1][1]]) <= max_tokens:
            last += 1
        start, end = units[first][0], units[last][1]
        chunk_text = text[start:end]
        chunk_id = hashlib.sha256(f"{article.id}|{digest}|{start}|{chunk_text}".encode()).hexdigest()[:32]
        chunks.append(Chunk(chunk_id, article.id, article.headline, chunk_text, start, end, count_tokens(chunk_text)))
        if last + 1 >= len(units):
            break
        # Step back `overlap` units, but always move forward.
        first = max(first + 1, last + 1 - overlap)
    return chunks


def _fit(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """The sentence as one unit, or as clauses / word runs when it is over budget."""
    if count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for c_start, c_end in split_clauses(text, start, end):
        if count_tokens(text[c_start:c_end]) <= max_tokens:
            pieces.append((c_start, c_end))
        else:
            pieces.extend(_split_words(text, c_start, c_end, max_tokens))
    return _merge_small(text, pieces, max_tokens // 2)


def _split_words(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    pieces: list[tuple[int, int]] = []
    piece_start = None
    piece_end = None
    for w_start, w_end in words:
        if piece_start is not None and count_tokens(text[piece_start:w_end]) <= max_tokens:
            piece_end = w_end
            continue
        if piece_start is not None:
            pieces.append((piece_start, piece_end))
        piece_start, piece_end = w_start, w_end
        # A single "word" over budget (a URL, a run of symbols): cut it by characters.
        while (cut := _longest_fitting(text, piece_start, piece_end, max_tokens)) < piece_end:
            pieces.append((piece_start, cut))
            piece_start = cut
    if piece_start is not None and piece_start < piece_end:
        pieces.append((piece_start, piece_end))
    return pieces


def _longest_fitting(text: str, start: int, end: int, max_tokens: int) -> int:
    """The largest cut <= end with text[start:cut] within max_tokens (at least one character).

    Found by doubling, then halving, the length tried: a word megabytes long (a file of one
    unbroken line) is never tokenized whole, once per piece cut from it."""
    fits, length = start + 1, max_tokens
    while start + length < end and count_tokens(text[start : start + length]) <= max_tokens:
        fits, length = start + length, 2 * length
    if start + length >= end and count_tokens(text[start:end]) <= max_tokens:
        return end
    too_long = min(start + length, end)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if count_tokens(text[start:middle]) <= max_tokens:
            fits = middle
        else:
            too_long = middle
    return fits


def _merge_small(text: str, pieces: list[tuple[int, int]], max_tokens: int) -> list[tuple[int, int]]:
    """Join neighbouring clauses while they stay under half a chunk, so the overlap stays small."""
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged and count_tokens(text[merged[-1][0] : end]) <= max_tokens:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
