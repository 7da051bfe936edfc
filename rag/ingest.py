"""Ingestion: files -> articles -> cleaned -> chunks -> embeddings -> the index.

Incremental: an article whose text did not change is skipped, a changed one is
replaced whole, and with `prune` an article whose file is gone is deleted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.backends import Embedder
from rag.chunk import article_hash, chunk_article
from rag.clean import clean_article
from rag.errors import InputError, RagError
from rag.load import find_article_files, read_article
from rag.settings import Settings
from rag.store import ChunkStore
from rag.types import Chunk


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
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
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.failed:
            parts.append(f"{len(self.failed)} refused")
        return f"{', '.join(parts)}; {self.chunks} chunks embedded in {self.seconds:.1f} s"


def embedding_input(chunk: Chunk) -> str:
    """What the embedder reads for a chunk: the headline gives every chunk its topic."""
    return chunk.text if chunk.start == 0 else f"{chunk.headline}\n{chunk.text}"


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
    known = {record.article_id: record for record in store.articles()}
    seen: set[str] = set()
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
        if record is not None and record.article_hash == digest:
            report.unchanged.append(article.id)
            continue
        chunks = chunk_article(article, settings.chunk_tokens, settings.chunk_overlap_sentences)
        try:
            embeddings = embedder.embed_passages([embedding_input(c) for c in chunks])
            store.replace_article(chunks, embeddings, digest, str(path))
        except RagError as exc:
            report.failed.append((str(path), str(exc)))
            continue
        report.chunks += len(chunks)
        (report.replaced if record is not None else report.added).append(article.id)
    if prune:
        for article_id in sorted(set(known) - seen):
            store.delete_article(article_id)
            report.removed.append(article_id)
    report.seconds = time.perf_counter() - started
    return report
