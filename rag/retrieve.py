"""Hybrid retrieval: dense (Chroma) + BM25 over an Arabic analyser, fused by reciprocal rank,
with each ranking's own first chunk kept among the chunks the model reads.

BM25 comes from the lexical index (rag.lexical), which the store keeps in step with Chroma.
An English question over Arabic articles has no BM25 ranking: its English words match only
stray Latin tokens in the articles, which ranks noise. Its lexical ranking is instead the dense
candidates that hold its names, numbers and months (rag.english_cues).
"""
from __future__ import annotations

import numpy as np

from rag.answerability import LexicalStatistics
from rag.arabic import analyze, detect_language
from rag.backends import Embedder
from rag.english_cues import EnglishCues, rank_by_cues
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

    @property
    def statistics(self) -> LexicalStatistics:
        """How many chunks use each term: what answerability weighs a question's terms by."""
        return self.store.lexical

    def lexical(self, question: str, depth: int) -> list[Chunk]:
        return self.store.lexical.search(analyze(question), depth)

    def dense(self, question: str, depth: int, vector: np.ndarray | None = None) -> list[Chunk]:
        """The nearest chunks to the question's embedding (computed here unless given)."""
        if vector is None:
            vector = self.embedder.embed_queries([question])[0]
        return [chunk for chunk, _ in self.store.query(vector, depth)]

    def retrieve(self, question: str, top_k: int, vector: np.ndarray | None = None) -> list[Hit]:
        self.store.sync()
        depth = max(CANDIDATES, top_k)
        dense = self.dense(question, depth, vector)
        if detect_language(question) == "ar":
            lexical = self.lexical(question, depth)
        else:
            lexical = rank_by_cues(EnglishCues.of(question), dense)
        return self.fuse(dense, lexical, top_k)

    def fuse(self, dense: list[Chunk], lexical: list[Chunk], top_k: int) -> list[Hit]:
        """Reciprocal rank fusion of the two rankings."""
        hits: dict[str, Hit] = {}
        for rank, chunk in enumerate(dense, start=1):
            hits[chunk.id] = Hit(chunk, 1.0 / (self.rrf_k + rank), dense_rank=rank)
        for rank, chunk in enumerate(lexical, start=1):
            hit = hits.setdefault(chunk.id, Hit(chunk, 0.0))
            hit.lexical_rank = rank
            hit.score += 1.0 / (self.rrf_k + rank)
        return with_each_first(sorted(hits.values(), key=lambda h: -h.score), top_k)


def with_each_first(fused: list[Hit], top_k: int) -> list[Hit]:
    """The `top_k` best fused hits, where each ranking's own first hit keeps a place: a chunk that
    BM25 ranks first and the embedder 17th («صدقت» for «صادقت» in a long paragraph) fuses to 6th.
    A first takes the place of the lowest fused hit that is neither ranking's first, never that of
    the best fused hit."""
    top = fused[:top_k]
    firsts = {hit.chunk.id: hit for hit in fused if hit.dense_rank == 1 or hit.lexical_rank == 1}
    for first in firsts.values():
        placed = {hit.chunk.id for hit in top}
        others = [i for i, hit in enumerate(top) if i > 0 and hit.chunk.id not in firsts]
        if first.chunk.id not in placed and others:
            top[others[-1]] = first
    return sorted(top, key=lambda h: -h.score)
