"""What every benchmark shares: the questions it asks, a pipeline from the CLI flags, JSON output."""
from __future__ import annotations

import json
from dataclasses import replace

BENCH_QUESTIONS = [
    "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟",
    "متى أعلنت وكالة الأنباء المركزية الكورية رسمياً قرار نشر القوات؟",
    "كم صاروخاً من طراز ستورم شادو استهدف مقر القيادة في قرية مارينو؟",
    "How many troops did North Korea send to Russia?",
    "ما البنك الذي طالبت روسيا برفع العقوبات عنه؟",
]


def bench_pipeline(args, **overrides):
    from rag.cli import settings_from
    from rag.pipeline import Pipeline

    settings, _ = settings_from(args)
    return Pipeline(replace(settings, **overrides))


def print_result(result: dict) -> None:
    print(json.dumps(result, ensure_ascii=False, indent=2))
