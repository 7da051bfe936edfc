"""The Evaluation tab: the latest eval run by question type, the history chart, and the
answers readers rated thumbs down, each of which can become a gold item."""
from __future__ import annotations

import json
from pathlib import Path

from rag.answer_log import AnswerLog
from rag.errors import RagError
from rag.eval import records
from rag.eval.gold_check import source_articles
from rag.eval.history import plot_history
from rag.eval.metrics import METRICS, answer_first
from rag.eval.promote import add_to_gold, draft_item
from rag.eval.report import format_value
from rag.settings import Settings

TABLE_METRICS = [m.name for m in answer_first(METRICS) if m.in_tab]
DOWN_HEADERS = ["Id", "When", "Question", "Answer", "Comment"]


def latest_run_table(settings: Settings) -> tuple[str, list[str], list[list]]:
    """(caption, headers, rows): one row per question type of the newest run, then the overall row."""
    folders = records.run_folders(settings.runs_dir)
    if not folders:
        return f"No eval runs in {settings.runs_dir} yet: run `rag eval --suite seeds`.", ["type"], []
    run = records.load_run(folders[-1])
    metrics = run.metrics
    shown = [m for m in TABLE_METRICS if m in metrics["overall"]]
    rows = [[kind, values["questions"], *(format_value(m, values.get(m)) for m in shown)]
            for kind, values in metrics["by_type"].items()]
    rows.append(["overall", metrics["questions"], *(format_value(m, metrics["overall"].get(m)) for m in shown)])
    caption = f"Run {run.run_id}: {run.suite} / {run.mode}, {metrics['questions']} questions, {metrics['errors']} errors"
    return caption, ["type", "questions", *shown], rows


def history_chart(settings: Settings) -> tuple[str | None, str]:
    """(PNG path, message): the chart `rag eval history` draws, or why there is none."""
    runs = [records.load_run(folder) for folder in records.run_folders(settings.runs_dir)]
    if not runs:
        return None, "No eval runs to chart yet."
    try:
        return str(plot_history(runs, settings.runs_dir / "history.png")), ""
    except RagError as exc:  # no matplotlib, or nothing to chart
        return None, str(exc)


def thumbs_down_rows(settings: Settings, limit: int = 50) -> list[list]:
    log = AnswerLog(settings)
    if not log.path.exists():
        return []
    return [
        [entry.id, _when(entry.time), entry.answer.question, entry.answer.text, entry.comment]
        for entry in log.recent(limit, rating="down")
    ]


def _when(seconds: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def draft(settings: Settings, answer_id) -> str:
    """The gold item a logged answer suggests, as editable JSON."""
    if answer_id in (None, ""):
        return ""
    item = draft_item(AnswerLog(settings).get(int(answer_id)))
    return json.dumps(item, ensure_ascii=False, indent=2)


def save(text: str, gold_file: Path, articles_folder: Path) -> str:
    """Append the edited item to the gold file, or say what is wrong with it."""
    if not text.strip():
        return "Choose a thumbs-down answer and press Promote first."
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"⚠ The item is not valid JSON: {exc}."
    if not isinstance(item, dict):
        return "⚠ The item must be a JSON object."
    problems = add_to_gold(item, gold_file, source_articles(articles_folder))
    if problems:
        return "⚠ Not added yet:\n" + "\n".join(f"- {p}" for p in problems)
    return f"Added {item['id']} to {gold_file}."
