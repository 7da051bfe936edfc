"""`rag bench ingest` and `rag bench retrieval`: the configured index, timed side by side."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from rag.bench.common import BENCH_QUESTIONS, bench_pipeline, print_result


def bench_ingest(args) -> int:
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as home:
        pipeline = bench_pipeline(args, home=Path(home))
        pipeline.embedder.embed_passages(["تحميل النموذج"])  # load the model outside the timing
        cold = pipeline.ingest(args.paths, progress=False)
        warm = pipeline.ingest(args.paths, progress=False)
    print_result(
        {
            "articles": len(cold.added),
            "chunks": cold.chunks,
            "cold_ingest_s": round(cold.seconds, 2),
            "chunks_per_s": round(cold.chunks / cold.seconds, 1),
            "reingest_unchanged_s": round(warm.seconds, 3),
            "cold_over_reingest": round(cold.seconds / max(warm.seconds, 1e-6), 1),
        }
    )
    return 0


def bench_retrieval(args) -> int:
    pipeline = bench_pipeline(args)
    retriever = pipeline.retriever
    top_k = pipeline.settings.top_k
    retriever.retrieve(BENCH_QUESTIONS[0], top_k)  # warm up: model load, BM25 build
    timings = {"dense": [], "lexical": [], "hybrid": []}
    for _ in range(args.repeat):
        for question in BENCH_QUESTIONS:
            for name, run in (
                ("dense", lambda: retriever.dense(question, top_k)),
                ("lexical", lambda: retriever.lexical(question, top_k)),
                ("hybrid", lambda: retriever.retrieve(question, top_k)),
            ):
                started = time.perf_counter()
                run()
                timings[name].append((time.perf_counter() - started) * 1000)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print_result(
        {
            "questions": len(BENCH_QUESTIONS) * args.repeat,
            **{f"{name}_median_ms": round(ms, 2) for name, ms in medians.items()},
            "hybrid_over_dense": round(medians["hybrid"] / medians["dense"], 2),
        }
    )
    return 0
