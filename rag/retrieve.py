"""Hybrid retrieval: dense (Chroma) + BM25 over an Arabic analyser, fused by reciprocal rank.

The BM25 index is rebuilt from what is in Chroma, so the two never disagree. An English
question over Arabic articles is retrieved by the dense ranking alone: its English words
match only stray Latin tokens in the articles, which ranks noise.
"""
from __future__ import annotations

from rank_bm25 import BM25Okapi

from rag.answerability import LexicalStatistics
from rag.arabic import analyze, detect_language
from rag.backends import Embedder
from rag.store import ChunkStore
from rag.types import Chunk, Hit

CANDIDATES = 20  # how deep each ranking is read before fusing


def ranked_articles(hits: list[Hit]) -> list[str]:
    """Article ids in the order their first chunk was retrieved."""
    return list(dict.fromkeys(hit.chunk.article_id for hit in hits))


class HybridRetriever:
    def __init__(self, store: ChunkStore, embedder: Embedder, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.rrf_k = rrf_k
        self._chunks: list[Chunk] = []
        self._bm25: BM25Okapi | None = None
        self._statistics = LexicalStatistics()
        self._indexed_count = -1

    def refresh(self) -> None:
        """Re-derive the lexical index from the vector store."""
        self._chunks = self.store.all_chunks()
        texts = [f"{c.headline}\n{c.text}" if c.start else c.text for c in self._chunks]
        self._bm25 = BM25Okapi([analyze(text) for text in texts]) if self._chunks else None
        self._statistics = LexicalStatistics(texts)
        self._indexed_count = len(self._chunks)

    @property
    def statistics(self) -> LexicalStatistics:
        """How many chunks use each term: what answerability weighs a question's terms by."""
        if self._indexed_count != self.store.count():
            self.refresh()
        return self._statistics

    def lexical(self, question: str, depth: int) -> list[Chunk]:
        if self._indexed_count != self.store.count():
            self.refresh()
        terms = analyze(question)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [self._chunks[i] for i in ranked[:depth] if scores[i] > 0]

    def dense(self, question: str, depth: int) -> list[Chunk]:
        vector = self.embedder.embed_queries([question])[0]
        return [chunk for chunk, _ in self.store.query(vector, depth)]

    def retrieve(self, question: str, top_k: int) -> list[Hit]:
        depth = max(CANDIDATES, top_k)
        dense = self.dense(question, depth)
        lexical = self.lexical(question, depth) if detect_language(question) == "ar" else []
        hits: dict[str, Hit] = {}
        for rank, chunk in enumerate(dense, start=1):
            hits[chunk.id] = Hit(chunk, 1.0 / (self.rrf_k + rank), dense_rank=rank)
        for rank, chunk in enumerate(lexical, start=1):
            hit = hits.setdefault(chunk.id, Hit(chunk, 0.0))
            hit.lexical_rank = rank
            hit.score += 1.0 / (self.rrf_k + rank)
        return sorted(hits.values(), key=lambda h: -h.score)[:top_k]
