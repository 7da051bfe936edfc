"""Is the index whole? What `rag check` verifies, reading only.

The index has two halves (rag.store): Chroma holds the chunks and their vectors, the
lexical index (rag.lexical) their terms, sentence vectors and the catalog of articles.
They are whole when:
- both halves are at the same revision, with no write begun and not committed;
- they hold the same chunk ids, and every chunk in Chroma has a vector of the index's size;
- every article is stored complete, in each half: one version, chunks numbered 0..n-1 of
  the n it was cut into, and (in the lexical index) every chunk with its sentence vectors.

Each problem names what repairs it. Opening the index repairs an interrupted write
(ChunkStore.sync); ingesting an article's file again rewrites an article stored
incompletely (rag.ingest); a vector Chroma lost needs a rebuild.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from rag.store import ChunkStore

_PAGE = 1000
ON_OPEN = "opening the index undoes the interrupted write: run `rag ingest` (or any command that reads the index)"
INGEST_AGAIN = "run `rag ingest` with the article's file: it writes the article again"
REBUILD = "run `rag ingest --rebuild` with all the articles' files"


@dataclass
class Problem:
    what: str
    repair: str  # one of ON_OPEN, INGEST_AGAIN, REBUILD


@dataclass
class ChromaChunk:
    article_id: str
    article_hash: str
    number: int
    article_chunks: int
    has_vector: bool


def check_index(store: ChunkStore) -> list[Problem]:
    problems = _step(store)
    out_of_step = bool(problems)
    chroma = _chroma_chunks(store)
    problems += _same_chunks(store, set(chroma))
    problems += [
        Problem(f"chunk {chunk_id} of {chunk.article_id} has no vector of size {store.signature['dimension']} in Chroma", REBUILD)
        for chunk_id, chunk in sorted(chroma.items())
        if not chunk.has_vector
    ]
    # Chunks of an interrupted write make an article look incomplete in Chroma until the write is undone.
    repair = ON_OPEN if out_of_step else INGEST_AGAIN
    problems += [Problem(f"in Chroma, {what}", repair) for what in _incomplete_in_chroma(chroma.values())]
    problems += [
        Problem(f"in the lexical index, article {record.article_id}: {record.defect}", INGEST_AGAIN)
        for record in store.articles()
        if record.defect
    ]
    return problems


def _step(store: ChunkStore) -> list[Problem]:
    problems = []
    pending = store.lexical.pending
    if pending is not None:
        problems.append(Problem(f"a write to {len(pending.articles)} articles began and was not committed", ON_OPEN))
    if store.revision() != store.lexical.revision:
        problems.append(Problem(
            f"Chroma is at revision {store.revision() or 'none'}, the lexical index at {store.lexical.revision}", ON_OPEN
        ))
    return problems


def _chroma_chunks(store: ChunkStore) -> dict[str, ChromaChunk]:
    dimension = store.signature["dimension"]
    chunks: dict[str, ChromaChunk] = {}
    offset = 0
    while True:
        page = store.collection.get(include=["metadatas", "embeddings"], limit=_PAGE, offset=offset)
        for chunk_id, meta, vector in zip(page["ids"], page["metadatas"], page["embeddings"]):
            chunks[chunk_id] = ChromaChunk(
                meta["article_id"], meta["article_hash"], int(meta["chunk_number"]), int(meta["article_chunks"]),
                has_vector=vector is not None and len(vector) == dimension and bool(np.isfinite(vector).all()),
            )
        if len(page["ids"]) < _PAGE:
            return chunks
        offset += _PAGE


def _same_chunks(store: ChunkStore, in_chroma: set[str]) -> list[Problem]:
    in_lexical = store.lexical.ids()
    problems = []
    if in_chroma - in_lexical:
        problems.append(Problem(f"{len(in_chroma - in_lexical)} chunks are in Chroma and not in the lexical index", ON_OPEN))
    if in_lexical - in_chroma:
        problems.append(Problem(f"{len(in_lexical - in_chroma)} chunks are in the lexical index and not in Chroma", ON_OPEN))
    return problems


def _incomplete_in_chroma(chunks) -> list[str]:
    versions: dict[str, dict[str, list[ChromaChunk]]] = defaultdict(lambda: defaultdict(list))
    for chunk in chunks:
        versions[chunk.article_id][chunk.article_hash].append(chunk)
    found = []
    for article_id, by_hash in sorted(versions.items()):
        if len(by_hash) > 1:
            found.append(f"article {article_id} has chunks of {len(by_hash)} versions")
            continue
        [version] = by_hash.values()
        numbers = sorted(chunk.number for chunk in version)
        expected = {chunk.article_chunks for chunk in version}
        if len(expected) != 1 or numbers != list(range(expected.pop())):
            found.append(f"article {article_id} has chunks {_ranges(numbers)} of the {max(c.article_chunks for c in version)} it was cut into")
    return found


def _ranges(numbers: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2, 5"."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)
