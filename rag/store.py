"""The vector index: Chroma (embedded or a `chroma run` server) behind llama-index's ChromaVectorStore.

Chunks are stored as llama-index TextNodes with our own embeddings (Chroma is
never asked to embed, so it never tries to download a model). The collection
records how it was built and refuses to be used with other settings.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.errors import StoreError
from rag.settings import Settings
from rag.types import Chunk

_PAGE = 1000


@dataclass
class ArticleRecord:
    """What the index knows about one ingested article."""

    article_id: str
    headline: str
    article_hash: str
    chunks: int
    ingested_at: float
    source: str


def index_signature(settings: Settings, embedder_name: str, dimension: int) -> dict:
    """How an index was built; a different signature needs a rebuild."""
    from rag.chunk import TOKENIZER

    return {
        "embedder": embedder_name,
        "dimension": dimension,
        "tokenizer": TOKENIZER,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_sentences": settings.chunk_overlap_sentences,
    }


def connect(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}). "
                "Start it with `chroma run --path DIR`, or unset RAG_CHROMA_URL to use the embedded index."
            ) from None
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


class ChunkStore:
    def __init__(self, settings: Settings, embedder_name: str, dimension: int, *, rebuild: bool = False):
        """Open the collection; with `rebuild`, drop it first and start empty with the current settings."""
        self.settings = settings
        self.client = connect(settings)
        self.signature = index_signature(settings, embedder_name, dimension)
        if rebuild and settings.collection in self._collection_names():
            self.client.delete_collection(settings.collection)
        self.collection = self._open_collection(settings.collection)
        self.vectors = ChromaVectorStore(chroma_collection=self.collection)

    def _collection_names(self) -> set[str]:
        return {c.name if hasattr(c, "name") else c for c in self.client.list_collections()}

    def _open_collection(self, name: str):
        if name in self._collection_names():
            collection = self.client.get_collection(name, embedding_function=None)
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
            name, embedding_function=None, metadata={**self.signature, "hnsw:space": "cosine"}
        )

    def count(self) -> int:
        return self.collection.count()

    def replace_article(
        self, chunks: list[Chunk], embeddings: list[list[float]], article_hash: str, source: str
    ) -> None:
        """Make these chunks the article's only chunks: all of them land, or none do."""
        article_id = chunks[0].article_id
        old_ids = self._chunk_ids(article_id)
        now = time.time()
        nodes = [
            TextNode(
                id_=chunk.id,
                text=chunk.text,
                embedding=embedding,
                metadata={
                    "article_id": chunk.article_id,
                    "headline": chunk.headline,
                    "start": chunk.start,
                    "end": chunk.end,
                    "n_tokens": chunk.n_tokens,
                    "article_hash": article_hash,
                    "source": source,
                    "ingested_at": now,
                },
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article_id)},
            )
            for chunk, embedding in zip(chunks, embeddings, strict=True)
        ]
        new_ids = [n.node_id for n in nodes if n.node_id not in old_ids]
        try:
            self.vectors.add([n for n in nodes if n.node_id in new_ids])
        except Exception as exc:
            self._delete_ids(new_ids)
            raise StoreError(f"Could not store article {article_id}: {exc}. The index is unchanged.") from exc
        stale = sorted(old_ids - {n.node_id for n in nodes})
        self._delete_ids(stale)

    def delete_article(self, article_id: str) -> None:
        self.vectors.delete(ref_doc_id=article_id)

    def _chunk_ids(self, article_id: str) -> set[str]:
        return set(self.collection.get(where={"article_id": article_id}, include=[])["ids"])

    def _delete_ids(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _PAGE):
            self.collection.delete(ids=ids[i : i + _PAGE])

    def all_chunks(self) -> list[Chunk]:
        chunks: list[Chunk] = []
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                chunks.append(_chunk_from(chunk_id, text, meta))
            if len(page["ids"]) < _PAGE:
                return chunks
            offset += _PAGE

    def chunks(self, ids: list[str]) -> list[Chunk]:
        """The chunks with these ids (those that exist)."""
        if not ids:
            return []
        found = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return [_chunk_from(*row) for row in zip(found["ids"], found["documents"], found["metadatas"])]

    def articles(self) -> list[ArticleRecord]:
        records: dict[str, ArticleRecord] = {}
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for meta in page["metadatas"]:
                article_id = meta["article_id"]
                record = records.get(article_id)
                if record is None:
                    records[article_id] = ArticleRecord(
                        article_id, meta["headline"], meta["article_hash"], 1, meta["ingested_at"], meta.get("source", "")
                    )
                else:
                    record.chunks += 1
                    if record.article_hash != meta["article_hash"]:
                        record.article_hash = "mixed"  # a half-replaced article: the next ingest replaces it
            if len(page["ids"]) < _PAGE:
                return sorted(records.values(), key=lambda r: r.article_id)
            offset += _PAGE

    def query(self, embedding: list[float], top_k: int) -> list[tuple[Chunk, float]]:
        if top_k < 1 or self.count() == 0:
            return []
        result = self.vectors.query(VectorStoreQuery(query_embedding=embedding, similarity_top_k=top_k))
        return [
            (_chunk_from(node.node_id, node.get_content(), node.metadata), similarity)
            for node, similarity in zip(result.nodes, result.similarities)
        ]


def _chunk_from(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id,
        article_id=meta["article_id"],
        headline=meta["headline"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        n_tokens=int(meta["n_tokens"]),
    )
