"""Embeddings of passage sentences: the ones stored at ingest, else computed once and kept.

Passage selection and the citation checker both compare the retrieved chunks' sentences
with something new (the question, an answer sentence). The sentences' side was embedded at
ingest (rag.ingest), so a question normally embeds only itself and the model's sentences.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from rag.backends import Embedder

KEPT = 20_000  # sentences remembered across questions


def unit(vector: ArrayLike) -> np.ndarray:
    """`vector` scaled to length 1, in its own dtype; a zero vector stays zero."""
    array = np.asarray(vector)
    return array / (np.linalg.norm(array) or 1.0)


class SentenceVectors:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()

    def add(self, vectors: dict[str, np.ndarray]) -> None:
        """Remember stored vectors (rag.store.ChunkStore.sentence_vectors)."""
        for text, vector in vectors.items():
            self._remember(text, vector)

    def of(self, sentences: list[str]) -> np.ndarray:
        """Unit vectors of these sentences, one row each; embeds only the ones not known yet."""
        missing = list(dict.fromkeys(s for s in sentences if s not in self._known))
        if missing:
            for text, vector in zip(missing, self.embedder.embed_passages(missing), strict=True):
                self._remember(text, vector)
        for text in sentences:
            self._known.move_to_end(text)
        return np.stack([self._known[text] for text in sentences])

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._known[text] = unit(vector)
        self._known.move_to_end(text)
        while len(self._known) > KEPT:
            self._known.popitem(last=False)
