"""What every benchmark shares: the questions it asks, a pipeline from the CLI flags, JSON output."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

SEEDS = Path("seeds")  # benchmarks run in the project folder, like `rag ingest seeds/`

BENCH_QUESTIONS = [
    "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟",
    "متى أعلنت وكالة الأنباء المركزية الكورية رسمياً قرار نشر القوات؟",
    "كم صاروخاً من طراز ستورم شادو استهدف مقر القيادة في قرية مارينو؟",
    "How many troops did North Korea send to Russia?",
    "ما البنك الذي طالبت روسيا برفع العقوبات عنه؟",
]


def bench_pipeline(args, **overrides):
    from rag.pipeline import Pipeline
    from rag.settings import settings_from

    settings, _ = settings_from(args)
    return Pipeline(replace(settings, **overrides))


def print_result(result: dict) -> None:
    print(json.dumps(result, ensure_ascii=False, indent=2))


def machine() -> dict:
    """What the times were measured on: they only compare within one run on one machine."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    fields = dict(line.split(":", 1) for line in lines if ":" in line)  # the last processor's; all are alike
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": fields.get("model name", "unknown"),
        "avx_flags": sorted(flag for flag in fields.get("flags", "").split() if flag.startswith(("avx", "amx"))),
    }
