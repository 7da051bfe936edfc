"""`rag bench answer`: answer latency of the configured model."""
from __future__ import annotations

import statistics
from dataclasses import replace

from rag.bench.common import BENCH_QUESTIONS, bench_pipeline, print_result


def add_parsers(which, common) -> None:
    p = which.add_parser("answer", parents=[common], help="answer latency with a compact vs a large passage budget")
    p.add_argument("-n", type=int, default=3, help="questions to ask (default 3)")
    p.add_argument("--budgets", default="300,900", help="two context_tokens budgets to compare (default 300,900: the default and 3x)")
    p.set_defaults(handler=bench_answer)


def bench_answer(args) -> int:
    budgets = [int(b) for b in args.budgets.split(",")]
    pipeline = bench_pipeline(args)
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
    print_result(result)
    return 0
