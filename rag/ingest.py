"""Ingestion: files -> articles -> cleaned -> chunks -> embeddings -> the index.

Incremental: an article whose text did not change is skipped, a changed one is
replaced whole, and with `prune` an article whose file is gone is deleted. An article the
index holds incompletely (see ArticleRecord.defect) is written again: ingesting its file
repairs it.

Callers that may run beside another writer hold the index's write lock (rag.lock), as
Pipeline.ingest does.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.arabic import split_sentences
from rag.backends import Embedder
from rag.chunk import article_hash, chunk_article
from rag.clean import clean_article
from rag.errors import InputError, RagError
from rag.load import find_article_files, read_article
from rag.settings import Settings
from rag.store import ArticleChunks, ChunkStore

BATCH_CHUNKS = 256  # chunks embedded and written together


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # unchanged, but stored incompletely: written again
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, message)
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.replaced)} replaced",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.repaired:
            parts.append(f"{len(self.repaired)} repaired")
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.failed:
            parts.append(f"{len(self.failed)} refused")
        return f"{', '.join(parts)}; {self.chunks} chunks embedded in {self.seconds:.1f} s"


def ingest(
    paths: list[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool = False,
    progress: bool = True,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    files = find_article_files(paths)
    if not files and not prune:
        raise InputError(f"No .txt, .md or .html articles found in {', '.join(map(str, paths))}.")
    store.sync()
    known = {record.article_id: record for record in store.articles()}
    seen: set[str] = set()
    batch = _Batch(store, embedder, report)
    bar = tqdm(files, desc="Ingesting", unit="article", disable=not progress)
    for path in bar:
        bar.set_postfix_str(path.name)
        if path.stem in seen:
            report.failed.append((str(path), f"another file already gave the article id {path.stem!r}"))
            continue
        seen.add(path.stem)  # even if it fails below: a bad new version never prunes the old one
        try:
            article = clean_article(read_article(path))
        except (InputError, OSError) as exc:
            report.failed.append((str(path), str(exc)))
            continue
        digest = article_hash(article)
        record = known.get(article.id)
        if record is None:
            outcome = report.added
        elif record.article_hash != digest:
            outcome = report.replaced
        elif record.complete:
            report.unchanged.append(article.id)
            continue
        else:
            outcome = report.repaired
        chunks = chunk_article(article, settings.chunk_tokens, settings.chunk_overlap_sentences)
        batch.add(ArticleChunks(chunks, [], digest, str(path)), outcome)
    batch.flush()
    if prune:
        for article_id in sorted(set(known) - seen):
            store.delete_article(article_id)
            report.removed.append(article_id)
    store.checkpoint()
    report.seconds = time.perf_counter() - started
    return report


class _Batch:
    """Changed articles, embedded and written together: one model call and one store write
    for many small articles. Each article still lands whole or not at all."""

    def __init__(self, store: ChunkStore, embedder: Embedder, report: IngestReport):
        self.store, self.embedder, self.report = store, embedder, report
        self.articles: list[ArticleChunks] = []
        self.outcomes: dict[str, list[str]] = {}  # article id -> the report list it joins once written

    def add(self, article: ArticleChunks, outcome: list[str]) -> None:
        self.articles.append(article)
        self.outcomes[article.article_id] = outcome
        if sum(len(a.chunks) for a in self.articles) >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        articles, self.articles = self.articles, []
        if not articles:
            return
        try:
            self._write(articles)
        except RagError as exc:
            if len(articles) == 1:
                self.report.failed.append((articles[0].source, str(exc)))
                return
            for article in articles:  # find the one that fails; the others still land
                self.articles = [article]
                self.flush()
            return
        for article in articles:
            self.report.chunks += len(article.chunks)
            self.outcomes[article.article_id].append(article.article_id)

    def _write(self, articles: list[ArticleChunks]) -> None:
        """Embed every chunk, and every sentence for passage selection, in one call; then store them."""
        chunks = [chunk for article in articles for chunk in article.chunks]
        spans = [split_sentences(chunk.text) for chunk in chunks]
        sentences = [chunk.text[start:end] for chunk, chunk_spans in zip(chunks, spans) for start, end in chunk_spans]
        vectors = iter(self.embedder.embed_passages([chunk.indexed_text() for chunk in chunks] + sentences))
        for article in articles:
            article.embeddings = [next(vectors) for _ in article.chunks]
        chunk_spans = iter(spans)
        for article in articles:
            article.sentences = [[(start, end, next(vectors)) for start, end in next(chunk_spans)] for _ in article.chunks]
        self.store.replace_articles(articles)
