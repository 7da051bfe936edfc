"""`rag bench answer`: how long a reader waits for an answer, in this process and in the browser chat.

By default each question is asked to a Pipeline in this process, then typed into the chat
of a `rag serve` subprocess in headless Chromium, question by question: one copy of the
model computes at a time (both stay loaded), and both see the same machine load.
`--budgets A,B` instead compares two passage budgets in this process.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace

from rag.bench.common import BENCH_QUESTIONS, bench_pipeline, print_result
from rag.errors import InputError, RagError
from rag.settings import ENV_PREFIX, Settings

SOURCES_TARGET_S = 1.0  # the passages being read are on screen this soon after Enter
FIRST_WORDS_TARGET_S = 0.5  # the browser's first words come at most this long after the model's first token
SERVER_START_SECONDS = 180
# Asked first on each side, untimed, to load the models. Not the first timed question: llama.cpp
# keeps the last prompt's KV cache, so the same question again would hardly be read at all.
WARM_UP_QUESTION = BENCH_QUESTIONS[-1]
# Right after an answer the server refreshes its status line and Gradio updates its event
# statistics (with pandas); this process waits that out before it asks, so the two do not overlap.
SETTLE_SECONDS = 1.0


def bench_answer(args) -> int:
    questions = bench_questions(args.n)
    if args.budgets:
        return bench_budgets(args, questions, parse_budgets(args.budgets))
    return bench_browser(args, questions)


def bench_questions(n: int) -> list[str]:
    if not 1 <= n <= len(BENCH_QUESTIONS):
        raise InputError(f"-n takes 1 to {len(BENCH_QUESTIONS)} questions, not {n}.")
    return BENCH_QUESTIONS[:n]


def parse_budgets(text: str) -> list[int]:
    try:
        budgets = [int(budget) for budget in text.split(",")]
    except ValueError:
        budgets = []
    if len(budgets) != 2 or min(budgets) <= 0:
        raise InputError(f"--budgets takes two token budgets, such as 300,900; not {text!r}.")
    return budgets


# --- in this process vs the browser ---------------------------------------


def bench_browser(args, questions: list[str]) -> int:
    check_browser()
    from ui.browser import VIEWPORT, ask, chromium, clear_chat, open_chat

    pipeline = bench_pipeline(args)
    pipeline.ask(WARM_UP_QUESTION)
    in_process, in_browser = [], []
    with served(pipeline.settings) as url, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        outside = outside_requests(page, url)
        open_chat(page, url)
        ask(page, WARM_UP_QUESTION)
        for question in questions:
            time.sleep(SETTLE_SECONDS)
            in_process.append(time_in_process(pipeline, question))
            clear_chat(page)  # no history: the server answers the same standalone question
            in_browser.append(asdict(ask(page, question)))
    print_result(browser_report(pipeline.chat_model.name, questions, in_process, in_browser, outside))
    return 0


def check_browser() -> None:
    from ui.browser import CHROMIUM

    if not CHROMIUM.exists():
        raise RagError(f"The browser benchmark needs Debian's Chromium at {CHROMIUM} (`make browser`); --budgets does not.")
    if importlib.util.find_spec("playwright") is None:
        raise RagError("The browser benchmark needs Playwright: pip install -e '.[dev]'; --budgets does not.")


def time_in_process(pipeline, question: str) -> dict:
    """The model's first token and total as the pipeline times them, and when the first words came."""
    started = time.perf_counter()
    first_words = None
    for update in pipeline.ask_stream(question):
        if first_words is None and update.text:
            first_words = time.perf_counter() - started
        answer = update.answer
    return {
        "first_token_s": answer.timings["first_token_s"],
        "first_words_s": round(first_words, 3),
        "total_s": answer.timings["total_s"],
    }


def outside_requests(page, url: str) -> list[str]:
    """The list the page's requests to anywhere but `url` are added to (there should be none)."""
    outside = []

    def note(request) -> None:
        if not request.url.startswith((url, "data:")):
            outside.append(request.url)

    page.on("request", note)
    return outside


def browser_report(model: str, questions: list[str], in_process: list[dict], in_browser: list[dict], outside: list[str]) -> dict:
    """Medians of both sides, and the paired differences the targets are about."""
    pairs = list(zip(in_process, in_browser))
    after_model_first_token = [b["first_words_s"] - m["first_token_s"] for m, b in pairs]
    after_in_process_first_words = [b["first_words_s"] - m["first_words_s"] for m, b in pairs]
    sources = [b["sources_s"] for b in in_browser if b["sources_s"] is not None]
    report = {
        "questions": len(questions),
        "model": model,
        "in_process": medians(in_process),
        "browser": medians(in_browser),
        "browser_first_words_minus_model_first_token_s": _median(after_model_first_token),
        "browser_first_words_minus_in_process_first_words_s": _median(after_in_process_first_words),
        "sources_after_enter_s": _median(sources),
        "outside_requests": outside,
        "per_question": [{"question": q, "in_process": m, "browser": b} for q, m, b in zip(questions, in_process, in_browser)],
    }
    report["targets_met"] = {
        f"sources_after_enter <= {SOURCES_TARGET_S} s": bool(sources) and report["sources_after_enter_s"] <= SOURCES_TARGET_S,
        f"browser_first_words - model_first_token <= {FIRST_WORDS_TARGET_S} s": (
            report["browser_first_words_minus_model_first_token_s"] <= FIRST_WORDS_TARGET_S
        ),
    }
    return report


def medians(rows: list[dict]) -> dict:
    """The median of each timing over the rows, leaving out the ones a row does not have."""
    return {f"median_{key}": _median([row[key] for row in rows if row[key] is not None]) for key in rows[0]}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """`rag serve` with these settings, in a subprocess on a free port; its URL. Killed by PID on the way out."""
    port = free_port()
    # The bench asks all its questions from one page: a reader's per-minute limit does not apply.
    unlimited = replace(settings, max_answers_per_minute=1_000_000)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            env=settings_env(unlimited), stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_until_serving(url, server, log)
            yield url
        finally:
            server.kill()
            server.wait()


def settings_env(settings: Settings) -> dict[str, str]:
    """This process's environment with every setting as a RAG_* variable: a `rag` subprocess uses the same ones."""
    return {**os.environ, **{ENV_PREFIX + name.upper(): str(value) for name, value in settings.to_dict().items()}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log) -> None:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RagError(f"`rag serve` exited with code {server.returncode}:\n{_tail(log)}")
        try:
            with direct.open(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RagError(f"`rag serve` did not answer at {url} within {SERVER_START_SECONDS} s:\n{_tail(log)}")


def _tail(log, chars: int = 2000) -> str:
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-chars:]


# --- two passage budgets, in this process ----------------------------------


def bench_budgets(args, questions: list[str], budgets: list[int]) -> int:
    pipeline = bench_pipeline(args)
    rows = {budget: [] for budget in budgets}
    for question in questions:
        for budget in budgets:  # interleaved, so both see the same machine load
            pipeline.settings = replace(pipeline.settings, context_tokens=budget)
            answer = pipeline.ask(question)
            rows[budget].append(answer)
    result = {"questions": len(questions), "model": pipeline.chat_model.name}
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
