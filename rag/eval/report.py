"""Markdown for people: the report of one run, and what changed between two runs."""
from __future__ import annotations

from rag.arabic import collapse_whitespace
from rag.eval.metrics import METRICS, RATES
from rag.eval.run import ANSWERS, RETRIEVAL, RunRecord

_MAX_ANSWER_CHARS = 160


def format_value(name: str, value) -> str:
    if value is None:
        return "–"
    if name in RATES:
        return f"{value:.3f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _present(metric_rows: list[dict]) -> list:
    return [m for m in METRICS if any(m.name in row for row in metric_rows)]


def metrics_table(metrics: dict) -> list[str]:
    """Overall column, then one column per question type."""
    types = metrics["by_type"]
    shown = _present([metrics["overall"], *types.values()])
    lines = [
        "| metric | overall | " + " | ".join(types) + " |",
        "|---|---:|" + "---:|" * len(types),
        "| questions | " + " | ".join([str(metrics["questions"]), *(str(t["questions"]) for t in types.values())]) + " |",
    ]
    for metric in shown:
        cells = [format_value(metric.name, metrics["overall"].get(metric.name))]
        cells += [format_value(metric.name, t.get(metric.name)) for t in types.values()]
        lines.append(f"| {metric.name} | " + " | ".join(cells) + " |")
    return lines


def _one_line(text: str) -> str:
    text = collapse_whitespace(text or "").replace("|", "\\|")
    return text if len(text) <= _MAX_ANSWER_CHARS else text[: _MAX_ANSWER_CHARS - 1] + "…"


def outcome(result: dict, mode: str) -> str:
    """A question's headline outcome: correct/wrong for answers, hit/miss for retrieval."""
    if result.get("error"):
        return "error"
    scores = result["scores"]
    if mode == ANSWERS:
        return "correct" if scores.get("correct") else "wrong"
    return "hit" if scores.get("hit@5") else "miss"


def render_report(record: RunRecord) -> str:
    config, metrics, mode = record.config, record.metrics, record.mode
    settings = config["settings"]
    lines = [
        f"# Eval run {record.run_id or ''}",
        "",
        f"- suite **{record.suite}**, mode **{mode}**, {metrics['questions']} questions, "
        f"{metrics['errors']} errors, {record.seconds:.0f} s",
        f"- started {record.started_at}; git {config['git']['sha'][:12]}{' (uncommitted changes)' if config['git'].get('dirty') else ''}",
        f"- chat model: {config['chat_model'] or '(not used)'}; embedder: {config['embedder']}",
        f"- top_k {settings['top_k']}, chunk_tokens {settings['chunk_tokens']}, context_tokens {settings['context_tokens']}, "
        f"temperature {settings['temperature']}, seed {settings['seed']}",
        f"- index: {config['index']['articles']} articles, {config['index']['chunks']} chunks; "
        f"gold set sha256 {config['gold']['sha256'][:12]}",
    ]
    selection = record.selection
    if selection["ids"] or selection["limit"]:
        lines.append(f"- selection: ids {selection['ids']}, limit {selection['limit']}")
    lines += ["", "## Metrics", "", *metrics_table(metrics), "", "## Questions", "", "Gold articles in bold.", ""]
    last = "answer" if mode == ANSWERS else "question"
    lines += [f"| id | type | outcome | retrieved | {last} |", "|---|---|---|---|---|"]
    for result in record.results:
        text = result.get("error") or (result["answer"]["text"] if mode == ANSWERS else result["question"])
        gold = set(result.get("gold_articles", []))
        retrieved = ", ".join(f"**{a}**" if a in gold else a for a in result.get("retrieved_articles", []))
        lines.append(f"| {result['id']} | {result['type']} | {outcome(result, mode)} | {retrieved} | {_one_line(text)} |")
    errors = [r for r in record.results if r.get("error")]
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- {r['id']}: {r['error']}" for r in errors]
    return "\n".join(lines) + "\n"


def render_compare(a: RunRecord, b: RunRecord) -> str:
    """Metric deltas B - A and the questions whose outcome flipped."""
    lines = [f"# {a.run_id} → {b.run_id}", ""]
    if (a.suite, a.mode) != (b.suite, b.mode):
        lines += [f"Note: comparing {a.suite}/{a.mode} with {b.suite}/{b.mode}.", ""]
    lines += ["| metric | A | B | Δ |", "|---|---:|---:|---:|"]
    overall_a, overall_b = a.metrics["overall"], b.metrics["overall"]
    for metric in _present([overall_a, overall_b]):
        va, vb = overall_a.get(metric.name), overall_b.get(metric.name)
        delta = f"{vb - va:+.3f}" if va is not None and vb is not None else "–"
        lines.append(f"| {metric.name} | {format_value(metric.name, va)} | {format_value(metric.name, vb)} | {delta} |")
    before = {r["id"]: r for r in a.results}
    flips = []
    for result in b.results:
        old = before.get(result["id"])
        if old is None:
            continue
        for mode in (ANSWERS, RETRIEVAL) if a.mode == b.mode == ANSWERS else (RETRIEVAL,):
            was, now = outcome(old, mode), outcome(result, mode)
            if was != now:
                flips.append(f"- {result['id']} ({result['type']}): {was} → {now}")
    lines += ["", f"## Flipped questions ({len(flips)})", ""]
    lines += flips or ["none"]
    only = sorted(set(before) ^ {r["id"] for r in b.results})
    if only:
        lines += ["", f"Questions in only one run: {', '.join(only)}"]
    return "\n".join(lines) + "\n"
