"""`rag bench model`: how fast the embedded llama.cpp reads a prompt and writes an answer.

Reading speed is what `make setup`'s native build is for (rag/backends/native.py); run this
once per build to compare them (llama.cpp's own timings; prompt prefix reuse off, so every
run reads its whole prompt).
"""
from __future__ import annotations

import statistics

from llama_index.core.llms import ChatMessage, MessageRole

from rag.backends import Usage
from rag.bench.common import SEEDS, bench_pipeline, machine, print_result

PROMPT_CHARS = 1500
ANSWER_TOKENS = 48


def bench_model(args) -> int:
    from rag.backends.embedded import cpu_features

    chat_model = bench_pipeline(args, backend="embedded").chat_model
    chat_model.reuse_prompt_prefix = False  # every run reads its whole prompt
    passage = sorted(SEEDS.glob("*.txt"))[3].read_text(encoding="utf-8")[:PROMPT_CHARS]
    list(chat_model.stream(_messages("warm-up", passage), max_tokens=1))  # load the model outside the timing
    runs = []
    for run in range(args.runs):
        usage = Usage()
        list(chat_model.stream(_messages(f"run {run}", passage), max_tokens=ANSWER_TOKENS, usage=usage))
        runs.append({"prompt_tokens": usage.prompt_tokens, "read_tokens_per_s": round(usage.read_tokens_per_s, 1),
                     "write_tokens_per_s": round(usage.write_tokens_per_s, 1)})
    print_result({
        "model": chat_model.name,
        "llama_cpp_for": cpu_features(),
        "machine": machine(),
        "median_read_tokens_per_s": statistics.median(r["read_tokens_per_s"] for r in runs),
        "median_write_tokens_per_s": statistics.median(r["write_tokens_per_s"] for r in runs),
        "runs": runs,
    })
    return 0


def _messages(label: str, passage: str) -> list[ChatMessage]:
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=f"({label}) Answer from the passage in one sentence."),
        ChatMessage(role=MessageRole.USER, content=f"{passage}\n\nكم عدد الجنود؟"),
    ]
