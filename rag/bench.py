"""Benchmarks (`rag bench ...`): timing targets live here, never in unit tests.

Each benchmark measures its variants side by side in one run and reports the
ratio, because this machine is shared and absolute times drift.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

BENCH_QUESTIONS = [
    "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟",
    "متى أعلنت وكالة الأنباء المركزية الكورية رسمياً قرار نشر القوات؟",
    "كم صاروخاً من طراز ستورم شادو استهدف مقر القيادة في قرية مارينو؟",
    "How many troops did North Korea send to Russia?",
    "ما البنك الذي طالبت روسيا برفع العقوبات عنه؟",
]


def register(commands, common) -> None:
    bench = commands.add_parser("bench", help="measure ingest, retrieval and answer latency (side by side)")
    which = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")

    p = which.add_parser("ingest", parents=[common], help="cold ingest vs incremental re-ingest of the same files")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")])
    p.set_defaults(handler=bench_ingest)

    p = which.add_parser("retrieval", parents=[common], help="dense vs BM25 vs hybrid: latency per question")
    p.add_argument("--repeat", type=int, default=5)
    p.set_defaults(handler=bench_retrieval)

    p = which.add_parser("answer", parents=[common], help="answer latency with a compact vs a large passage budget")
    p.add_argument("-n", type=int, default=3, help="questions to ask (default 3)")
    p.add_argument("--budgets", default="300,900", help="two context_tokens budgets to compare (default 300,900: the default and 3x)")
    p.set_defaults(handler=bench_answer)


def _pipeline(args, **overrides):
    from rag.cli import settings_from
    from rag.pipeline import Pipeline

    settings, _ = settings_from(args)
    return Pipeline(replace(settings, **overrides))


def _print(result: dict) -> None:
    print(json.dumps(result, ensure_ascii=False, indent=2))


def bench_ingest(args) -> int:
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as home:
        pipeline = _pipeline(args, home=Path(home))
        pipeline.embedder.embed_passages(["تحميل النموذج"])  # load the model outside the timing
        cold = pipeline.ingest(args.paths, progress=False)
        warm = pipeline.ingest(args.paths, progress=False)
    _print(
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
    pipeline = _pipeline(args)
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
    _print(
        {
            "questions": len(BENCH_QUESTIONS) * args.repeat,
            **{f"{name}_median_ms": round(ms, 2) for name, ms in medians.items()},
            "hybrid_over_dense": round(medians["hybrid"] / medians["dense"], 2),
        }
    )
    return 0


def bench_answer(args) -> int:
    budgets = [int(b) for b in args.budgets.split(",")]
    pipeline = _pipeline(args)
    rows = {budget: [] for budget in budgets}
    for question in BENCH_QUESTIONS[: args.n]:
        for budget in budgets:  # interleaved, so both see the same machine load
            pipeline.settings = replace(pipeline.settings, context_tokens=budget)
            answer = pipeline.ask(question)
            rows[budget].append(answer)
    result = {"questions": args.n, "model": pipeline.chat_model.name}
    for budget, answers in rows.items():
        result[f"budget_{budget}"] = {
            "median_prompt_tokens": statistics.median(a.usage["prompt_tokens"] for a in answers),
            "median_first_token_s": round(statistics.median(a.timings["first_token_s"] for a in answers), 2),
            "median_total_s": round(statistics.median(a.timings["total_s"] for a in answers), 2),
            "supported_answers": sum(not a.abstained for a in answers),
        }
    small, large = (result[f"budget_{b}"] for b in budgets)
    result["first_token_ratio_large_over_small"] = round(large["median_first_token_s"] / small["median_first_token_s"], 2)
    _print(result)
    return 0
