"""Run records on disk: settings.runs_dir/<run_id>/run.json, with report.md beside it.

While a run is going, each finished question is appended to results.jsonl in its folder,
so a run that is killed still leaves what it did; run.json replaces it at the end.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import InputError
from rag.eval.report import render_report
from rag.eval.run import RunRecord

RUN_FILE = "run.json"
REPORT_FILE = "report.md"
PARTIAL_FILE = "results.jsonl"


def new_run_id(runs_dir: Path, suite: str, mode: str, now: datetime | None = None) -> str:
    """UTC timestamp + suite/mode tag, e.g. 20250428T101500Z-seeds-answers; unique in runs_dir."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-{suite}-{mode}"
    suffix = 2
    while (runs_dir / run_id).exists():
        run_id = f"{stamp}-{suite}-{mode}-{suffix}"
        suffix += 1
    return run_id


def start_run(runs_dir: Path, suite: str, mode: str) -> Path:
    """Create the folder of a new run; its name is the run id."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    folder = runs_dir / new_run_id(runs_dir, suite, mode)
    folder.mkdir()
    return folder


def append_result(folder: Path, result: dict) -> None:
    with open(folder / PARTIAL_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result, ensure_ascii=False) + "\n")


def discard_if_empty(folder: Path) -> None:
    """Remove the folder of a run that stopped before its first question."""
    if not any(folder.iterdir()):
        folder.rmdir()


def save_run(record: RunRecord, runs_dir: Path) -> Path:
    """Write run.json and report.md into the record's folder (a new one if it has no run id yet)."""
    if not record.run_id:
        record.run_id = start_run(runs_dir, record.suite, record.mode).name
    folder = runs_dir / record.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps(record.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / REPORT_FILE).write_text(render_report(record), encoding="utf-8")
    (folder / PARTIAL_FILE).unlink(missing_ok=True)
    return folder


def unfinished_runs(runs_dir: Path) -> list[tuple[str, int]]:
    """(run id, questions done) of runs that stopped before writing run.json."""
    if not runs_dir.is_dir():
        return []
    return [
        (p.name, len((p / PARTIAL_FILE).read_text(encoding="utf-8").splitlines()))
        for p in sorted(runs_dir.iterdir())
        if (p / PARTIAL_FILE).is_file() and not (p / RUN_FILE).is_file()
    ]


def load_run(folder: Path) -> RunRecord:
    try:
        return RunRecord.from_dict(json.loads((folder / RUN_FILE).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{folder} is not a readable eval run ({exc}).") from None


def run_folders(runs_dir: Path) -> list[Path]:
    """Every run's folder, oldest first (run ids start with their UTC time)."""
    if not runs_dir.is_dir():
        return []
    return sorted((p for p in runs_dir.iterdir() if (p / RUN_FILE).is_file()), key=lambda p: p.name)


def resolve_run(reference: str, runs_dir: Path) -> Path:
    """A run's folder from a run id, a path (folder or run.json), or "latest"."""
    if reference == "latest":
        folders = run_folders(runs_dir)
        if not folders:
            raise InputError(f"No eval runs in {runs_dir} yet; start one with `rag eval`.")
        return folders[-1]
    path = Path(reference).expanduser()
    for candidate in (path, path.parent if path.name == RUN_FILE else None, runs_dir / reference):
        if candidate is not None and (candidate / RUN_FILE).is_file():
            return candidate
    raise InputError(f"No eval run {reference!r} (not a run id in {runs_dir}, nor a run folder). `rag eval list` shows them.")


def latest_matching(record: RunRecord, runs_dir: Path) -> RunRecord | None:
    """The newest earlier run of the same suite, mode and question selection."""
    for folder in reversed(run_folders(runs_dir)):
        if folder.name == record.run_id:
            continue
        other = load_run(folder)
        if (other.suite, other.mode, other.selection) == (record.suite, record.mode, record.selection):
            return other
    return None
