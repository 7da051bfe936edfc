"""The index: vectors in Chroma (embedded or a `chroma run` server), terms and catalog in SQLite.

Chunks are stored as llama-index TextNodes with our own embeddings (Chroma is
never asked to embed, so it never tries to download a model). The collection
records how it was built and refuses to be used with other settings.

Chroma has the last word on which chunks exist. Each write stamps the collection with a
new revision, then commits the same revision to the lexical index (rag.lexical) together
with the matching rows; `sync` repairs a lexical index whose revision is not the
collection's, from Chroma's chunk ids, before anything reads it.
"""
from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.core.vector_stores.utils import node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.errors import StoreError
from rag.lexical import ArticleRecord, LexicalIndex, PendingWrite, StoredChunk
from rag.lock import IndexLock
from rag.settings import Settings
from rag.term_rows import TermRows
from rag.types import Chunk

log = logging.getLogger(__name__)

_PAGE = 1000
REVISION_KEY = "revision"  # collection metadata: the write the collection last saw
# 2: every write stamps a revision, and ingest stores sentence embeddings beside the chunks.
# 3: every chunk records its place in its article (chunk_number of article_chunks), so that an
# article missing a chunk can be told from a whole one (rag.integrity).
# 4: the chunk text is a metadata field (TEXT_KEY), not Chroma's document. Chroma keeps a
# trigram full-text index of documents, which nothing here searches (rag.lexical is the
# full-text index), and that index was half the time of every write (docs/benchmarks.md).
# An index of layout 3 is upgraded in place when opened (_move_texts_out_of_documents); one of
# another layout is refused until rebuilt.
INDEX_LAYOUT = 4
TEXT_KEY = "text"
# Chroma saves its HNSW graph every `sync_threshold` added vectors, and a new process replays the
# vectors added since the last save on its first query: with Chroma's 1,000, up to 999 graph
# insertions (0.5-0.7 s at 20,000 chunks) before the first question is answered. Saving every 250
# bounds that replay, at no cost to ingest that we could measure (docs/benchmarks.md).
SAVE_GRAPH_EVERY = 250


@dataclass
class ArticleChunks:
    """One article's new chunks and their vectors, ready to replace whatever the index has of it."""

    chunks: list[Chunk]
    embeddings: list[np.ndarray]  # a row of the embedder's array per chunk
    article_hash: str
    source: str
    sentences: list[list[tuple[int, int, np.ndarray]]] = field(default_factory=list)  # per chunk, see StoredChunk

    @property
    def article_id(self) -> str:
        return self.chunks[0].article_id


@dataclass
class SyncReport:
    """What `ChunkStore.sync` changed in the lexical index to match Chroma."""

    added: int
    removed: int
    undone: int = 0  # chunks removed from Chroma to undo an interrupted write of this machine


def index_signature(settings: Settings, embedder_name: str, dimension: int) -> dict:
    """How an index was built; a different signature needs a rebuild."""
    from rag.chunk import TOKENIZER

    return {
        "layout": INDEX_LAYOUT,
        "embedder": embedder_name,
        "dimension": dimension,
        "tokenizer": TOKENIZER,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
    }


def _server_url(settings: Settings):
    return urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")


def server_not_answering(settings: Settings) -> StoreError:
    """The one message for a `chroma run` server that cannot be reached, before or during a question."""
    port = _server_url(settings).port or 8000
    return StoreError(
        f"The index server (Chroma) at {settings.chroma_url} is not answering. "
        f"Start it with `chroma run --path DIR --port {port}`, DIR being the folder that holds the index, "
        "then ask again; or unset RAG_CHROMA_URL to use the embedded index."
    )


def connect(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = _server_url(settings)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception:  # chromadb turns a refused connection into a ValueError here
            raise server_not_answering(settings) from None
        return client
    path = settings.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except OSError as exc:
        raise StoreError(
            f"Cannot write the index at {path}: {exc.strerror or exc}. "
            "Point RAG_HOME (or --home) at a writable folder."
        ) from None


def lexical_path(settings: Settings) -> Path:
    """Where the lexical index of this collection lives: always on this machine, under RAG_HOME.

    With a `chroma run` server each machine keeps its own copy, named after the server."""
    if settings.chroma_url:
        server = re.sub(r"[^A-Za-z0-9.-]+", "_", settings.chroma_url.split("://")[-1]).strip("_")
        return settings.home / "lexical" / f"{server}-{settings.collection}.sqlite"
    return settings.home / "lexical" / f"{settings.collection}.sqlite"


def _needs_server(method):
    """A `chroma run` server that stops answering becomes one StoreError saying so.

    Nothing else is needed to recover: chromadb's client opens a new connection on the
    next call, and the collection handle stays valid when the server comes back on its data."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except httpx.TransportError:
            raise server_not_answering(self.settings) from None

    return call


class ChunkStore:
    @_needs_server
    def __init__(self, settings: Settings, embedder_name: str, dimension: int, *, rebuild: bool = False, repair: bool = True):
        """Open the collection; with `rebuild`, drop it first and start empty with the current settings.

        Opening repairs an interrupted write (see `sync`) unless `repair` is False (`rag check`)."""
        self.settings = settings
        self.client = connect(settings)
        self.signature = index_signature(settings, embedder_name, dimension)
        path = lexical_path(settings)
        if rebuild:
            if settings.collection in self._collection_names():
                self.client.delete_collection(settings.collection)
            # The file and its WAL, the WAL first: a WAL left beside a new file could bring old pages back.
            for leftover in sorted(path.parent.glob(f"{path.name}*"), reverse=True):
                leftover.unlink()
        self.collection = self._open_collection(settings.collection)
        self.vectors = ChromaVectorStore(chroma_collection=self.collection)
        self.lexical = LexicalIndex(path)
        if repair:
            self.sync()

    def _collection_names(self) -> set[str]:
        return {c.name if hasattr(c, "name") else c for c in self.client.list_collections()}

    def _open_collection(self, name: str):
        if name in self._collection_names():
            collection = self.client.get_collection(name, embedding_function=None)
            if {**(collection.metadata or {}), "layout": INDEX_LAYOUT}.items() >= self.signature.items():
                _move_texts_out_of_documents(collection)  # only the layout differs: upgrade in place
            built_with = {k: (collection.metadata or {}).get(k) for k in self.signature}
            if built_with != self.signature:
                differences = ", ".join(
                    f"{k}: index has {built_with[k]!r}, settings say {v!r}"
                    for k, v in self.signature.items()
                    if built_with[k] != v
                )
                raise StoreError(
                    f"The index '{name}' was built differently ({differences}). "
                    "Rebuild it with `rag ingest --rebuild`, or change the settings back."
                )
            return collection
        return self.client.create_collection(
            name, embedding_function=None,
            metadata={**self.signature, "hnsw:space": "cosine", "hnsw:sync_threshold": SAVE_GRAPH_EVERY},
        )

    def _save_graph_often(self) -> None:
        """Give a collection made with Chroma's default the shorter save interval, before writing to it."""
        hnsw = (self.collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", SAVE_GRAPH_EVERY) > SAVE_GRAPH_EVERY:
            self.collection.modify(configuration={"hnsw": {"sync_threshold": SAVE_GRAPH_EVERY}})

    # --- keeping the lexical index in step with Chroma -----------------------

    def revision(self) -> str:
        """The revision the collection was last stamped with."""
        metadata = self.client.get_collection(self.settings.collection, embedding_function=None).metadata or {}
        return str(metadata.get(REVISION_KEY, ""))

    def _begin(self, added: list[str], articles: list[str]) -> str:
        """Before changing the collection: record in the lexical index what the write adds, then
        stamp the collection. A crash from here on leaves a revision the lexical index does not
        have and the record of what to undo, so the next `sync` undoes it."""
        revision = uuid.uuid4().hex
        self.lexical.begin(PendingWrite(revision, added, articles))
        self._stamp(revision)
        return revision

    def _stamp(self, revision: str) -> None:
        metadata = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
        self.collection.modify(metadata={**metadata, REVISION_KEY: revision})

    @_needs_server
    def sync(self) -> SyncReport | None:
        """Bring the index back in step when its two halves differ: undo a write of this machine
        that was cut short, and take in what another machine wrote to a shared collection.

        Only under the write lock: while another process of this machine writes, its own commit
        ends the difference, and a repair now would race it (rag.lock)."""
        if self.revision() == self.lexical.revision and self.lexical.pending is None:
            return None
        with IndexLock(self.settings.home).try_writing() as writing:
            return self._repair() if writing else None

    def _repair(self) -> SyncReport | None:
        revision = self.revision()
        pending = self.lexical.pending
        if revision == self.lexical.revision and pending is None:
            return None  # the writer we waited behind finished
        undone: set[str] = set()
        if pending is not None and pending.revision == revision:
            # Our write was cut short and nobody wrote since. Take out what it added; an
            # article it had begun to take chunks out of cannot be put back, so it goes whole.
            # Each step can be repeated, and until the new stamp a crash repeats them all.
            in_chroma = self._chroma_ids()
            undone = in_chroma & set(pending.added)
            for article_id in pending.articles:
                kept = self.lexical.article_chunk_ids(article_id)
                if kept - in_chroma:
                    undone |= kept & in_chroma
            self._delete_ids(sorted(undone))
            revision = uuid.uuid4().hex
            self._stamp(revision)
        in_chroma = self._chroma_ids()
        in_lexical = self.lexical.ids()
        missing = sorted(in_chroma - in_lexical)
        extra = in_lexical - in_chroma
        self.lexical.write(self._stored_chunks(missing), extra, revision)
        report = SyncReport(added=len(missing), removed=len(extra), undone=len(undone))
        if pending is not None and undone:
            log.warning("An interrupted write to the index was undone: %d chunks taken out.", len(undone))
        if (missing or extra) and in_lexical:
            log.warning(
                "The lexical index was out of step with the vector index (another process wrote to it, or a "
                "write was interrupted); repaired: %d chunks added, %d removed.", report.added, report.removed,
            )
        return report

    def _chroma_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=_PAGE, offset=offset)["ids"]
            ids.update(page)
            if len(page) < _PAGE:
                return ids
            offset += _PAGE

    def _stored_chunks(self, ids: list[str]) -> list[StoredChunk]:
        stored = []
        for start in range(0, len(ids), _PAGE):
            found = self.collection.get(ids=ids[start : start + _PAGE], include=["metadatas"])
            stored += [_stored_from(chunk_id, meta) for chunk_id, meta in zip(found["ids"], found["metadatas"])]
        return stored

    # --- writing ---------------------------------------------------------------

    def count(self) -> int:
        return self.lexical.documents

    def checkpoint(self) -> None:
        """At the end of an ingest: the lexical index's WAL copied into its file (rag.lexical.WAL_PAGES)."""
        self.lexical.checkpoint()

    @_needs_server
    def replace_articles(self, articles: list[ArticleChunks]) -> None:
        """Make each article's new chunks its only chunks, for several articles in one write.

        All of them land, or none do: a failed write removes what it added and leaves the
        articles as they were; a crash is undone when the index is next opened (`sync`).
        An article ingested again unchanged, to repair it, keeps the chunks and vectors it has,
        gets those it lacks, and has every chunk written again in the lexical index."""
        if not articles:
            return
        old_ids = set().union(*(self.lexical.article_chunk_ids(a.article_id) for a in articles))
        now = time.time()
        stored = [
            StoredChunk(
                chunk, a.article_hash, a.source, now, a.sentences[i] if a.sentences else [],
                number=i, article_chunks=len(a.chunks),
            )
            for a in articles
            for i, chunk in enumerate(a.chunks)
        ]
        vectors = [v for a in articles for v in a.embeddings]
        new = [(s, vector) for s, vector in zip(stored, vectors, strict=True) if s.chunk.id not in old_ids]
        added = [s.chunk.id for s, _ in new]
        if new:
            self._save_graph_often()
        revision = self._begin(added, [a.article_id for a in articles])
        rows = TermRows([s.chunk for s in stored])  # analysed while Chroma stores the vectors
        try:
            try:
                for start in range(0, len(new), _PAGE):
                    self._add(new[start : start + _PAGE])
            except Exception as exc:
                self._delete_ids(added)
                self.lexical.write([], [], revision)
                names = ", ".join(a.article_id for a in articles)
                raise StoreError(f"Could not store {names}: {exc}. The index is unchanged.") from exc
            stale = sorted(old_ids - {s.chunk.id for s in stored})
            self._delete_ids(stale)
            self.lexical.write(stored, stale, revision, rows)
        finally:
            rows.result()  # read the worker's answer even when the write is given up, or it stays busy

    def _add(self, chunks: list[tuple[StoredChunk, np.ndarray]]) -> None:
        """Add chunks to Chroma as llama-index's ChromaVectorStore.add writes nodes (the same ids,
        metadata and empty documents, so its `query` reads them back), with the vectors handed to
        Chroma as one array: through `add`, each node's vector would be a list that llama-index
        serialises along with the node only to drop it, and that Chroma turns back into an array."""
        self.collection.add(
            ids=[stored.chunk.id for stored, _ in chunks],
            embeddings=np.stack([vector for _, vector in chunks]),
            metadatas=[node_to_metadata_dict(_node(stored), remove_text=True, flat_metadata=True) for stored, _ in chunks],
            documents=[""] * len(chunks),
        )

    @_needs_server
    def delete_article(self, article_id: str) -> None:
        ids = sorted(self.lexical.article_chunk_ids(article_id))
        revision = self._begin([], [article_id])
        self._delete_ids(ids)
        self.lexical.write([], ids, revision)

    def _delete_ids(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[i : i + _PAGE])

    # --- reading ---------------------------------------------------------------

    def all_chunks(self) -> list[Chunk]:
        return self.lexical.all_chunks()

    def chunks(self, ids: list[str]) -> list[Chunk]:
        """The chunks with these ids (those that exist)."""
        return self.lexical.chunks(ids)

    def articles(self) -> list[ArticleRecord]:
        return self.lexical.articles()

    def sentence_vectors(self, chunk_ids: list[str]):
        """Embeddings of these chunks' sentences stored at ingest, by sentence text."""
        return self.lexical.sentence_vectors(chunk_ids)

    @_needs_server
    def query(self, embedding: np.ndarray, top_k: int) -> list[tuple[Chunk, float]]:
        if top_k < 1 or self.count() == 0:
            return []
        query = VectorStoreQuery(query_embedding=np.asarray(embedding).tolist(), similarity_top_k=top_k)
        result = self.vectors.query(query)
        return [
            (_chunk_from(node.node_id, node.metadata), similarity)
            for node, similarity in zip(result.nodes, result.similarities)
        ]


def _move_texts_out_of_documents(collection) -> None:
    """Bring an index of layout 3 to layout 4 in place: each chunk's text is copied from its Chroma
    document into its metadata, and its vector stays, so upgrading embeds nothing. The documents
    are left as they are (clearing them would make Chroma index each vector again): they are
    never read, and go with their chunks. Each page is rewritten whole, the same again when an
    upgrade cut short is repeated."""
    if (collection.metadata or {}).get("layout") != 3:
        return
    ids = sorted(collection.get(include=[])["ids"])
    log.warning("Upgrading the index '%s' (%d chunks) to layout %d: the texts are copied out of Chroma's documents; "
                "nothing is embedded again.", collection.name, len(ids), INDEX_LAYOUT)
    for start in range(0, len(ids), _PAGE):
        page = collection.get(ids=ids[start : start + _PAGE], include=["documents", "metadatas"])
        metadatas = []
        for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
            stored = _stored_from(chunk_id, {**meta, TEXT_KEY: meta.get(TEXT_KEY) or text})
            written = node_to_metadata_dict(_node(stored), remove_text=True, flat_metadata=True)
            metadatas.append({key: written[key] for key in (TEXT_KEY, "_node_content")})  # the rest is unchanged
        collection.update(ids=page["ids"], metadatas=metadatas)
    kept = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    collection.modify(metadata={**kept, "layout": INDEX_LAYOUT})


def _node(stored: StoredChunk) -> TextNode:
    """The chunk as a llama-index node in Chroma: its text in the metadata (see INDEX_LAYOUT), no document."""
    chunk = stored.chunk
    return TextNode(
        id_=chunk.id,
        text="",
        metadata={
            TEXT_KEY: chunk.text,
            "article_id": chunk.article_id,
            "headline": chunk.headline,
            "start": chunk.start,
            "end": chunk.end,
            "n_tokens": chunk.n_tokens,
            "article_hash": stored.article_hash,
            "chunk_number": stored.number,
            "article_chunks": stored.article_chunks,
            "source": stored.source,
            "ingested_at": stored.ingested_at,
        },
    )


def _stored_from(chunk_id: str, meta: dict) -> StoredChunk:
    """A chunk and what the store keeps beside it, read back from its Chroma metadata."""
    return StoredChunk(
        _chunk_from(chunk_id, meta), meta["article_hash"], meta.get("source", ""), meta["ingested_at"],
        number=int(meta["chunk_number"]), article_chunks=int(meta["article_chunks"]),
    )


def _chunk_from(chunk_id: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id,
        article_id=meta["article_id"],
        headline=meta["headline"],
        text=meta[TEXT_KEY],
        start=int(meta["start"]),
        end=int(meta["end"]),
        n_tokens=int(meta["n_tokens"]),
    )
