"""`rag eval`: run a suite (optionally gated by a baseline), and browse the run records."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.errors import InputError
from rag.eval import gate, records
from rag.eval.gold import SUITES
from rag.eval.history import plot_history
from rag.eval.metrics import METRICS
from rag.eval.report import format_value, render_compare
from rag.eval.run import ANSWERS, RETRIEVAL, RunRecord

HEADLINE_METRICS = [m.name for m in METRICS if m.headline]


def register(commands, common) -> None:
    p = commands.add_parser(
        "eval",
        parents=[common],
        help="score the pipeline on the gold questions; browse and compare runs",
        description="Without a subcommand: run a suite through the same pipeline `rag ask` uses, keep the run "
        "record under HOME/runs/, and with --baseline fail (exit 3) when a gated metric dropped.",
    )
    p.add_argument("--suite", choices=SUITES, help="question set (default: seeds, or the baseline's)")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--ids", help="only these question ids, comma-separated")
    p.add_argument("--retrieval-only", action="store_true", help="score retrieval only; no chat model needed")
    p.add_argument("--baseline", help="a baseline JSON file, or `latest` (the previous run of the same kind)")
    p.add_argument("--write-baseline", type=Path, metavar="FILE", help="write a baseline from this run")
    p.set_defaults(handler=cmd_run)
    which = p.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")

    s = which.add_parser("list", parents=[common], help="the recorded runs, oldest first")
    s.set_defaults(handler=cmd_list)
    s = which.add_parser("show", parents=[common], help="print a run's report")
    s.add_argument("run", help="run id, run folder, or `latest`")
    s.set_defaults(handler=cmd_show)
    s = which.add_parser("compare", parents=[common], help="metric deltas and flipped questions from run A to run B")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(handler=cmd_compare)
    s = which.add_parser("history", parents=[common], help="chart the main metrics across runs (PNG)")
    s.add_argument("--out", type=Path, help="where to write the PNG (default: HOME/runs/history.png)")
    s.set_defaults(handler=cmd_history)


def _settings(args):
    from rag.settings import settings_from

    return settings_from(args)[0]


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def plan(args: argparse.Namespace, baseline: dict | None) -> tuple[str, bool, list[str] | None, int | None]:
    """Suite, retrieval_only, ids and limit: from the flags, else from the baseline, else defaults."""
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
    if baseline is None:
        return args.suite or "seeds", args.retrieval_only, ids, args.limit
    if args.suite and args.suite != baseline["suite"]:
        raise InputError(f"The baseline is for the {baseline['suite']} suite, not {args.suite}.")
    if args.retrieval_only and baseline["mode"] != RETRIEVAL:
        raise InputError("The baseline scores answers; drop --retrieval-only to use it.")
    if (ids or args.limit is not None) and (ids, args.limit) != (baseline.get("ids"), baseline.get("limit")):
        raise InputError("The baseline was made on another question selection; drop --ids/--limit to use its own.")
    return baseline["suite"], baseline["mode"] == RETRIEVAL, baseline.get("ids"), baseline.get("limit")


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    baseline_file = None if args.baseline in (None, "latest") else gate.load_baseline(Path(args.baseline))
    suite, retrieval_only, ids, limit = plan(args, baseline_file)
    from rag.eval.runner import run_suite  # pulls in the pipeline; list/show/compare stay light

    folder = records.start_run(settings.runs_dir, suite, RETRIEVAL if retrieval_only else ANSWERS)
    _log(f"run {folder.name}")
    try:
        record = run_suite(
            settings, suite, retrieval_only=retrieval_only, ids=ids, limit=limit, log=_log,
            on_result=lambda result: records.append_result(folder, result),
        )
    except BaseException:
        records.discard_if_empty(folder)
        raise
    record.run_id = folder.name
    records.save_run(record, settings.runs_dir)
    print_summary(record, folder)
    if args.write_baseline:
        gate.write_baseline(record, args.write_baseline)
        print(f"baseline written: {args.write_baseline}")
    baseline = baseline_file
    if args.baseline == "latest":
        previous = records.latest_matching(record, settings.runs_dir)
        if previous is None:
            print("no earlier run of the same kind to compare with; nothing to gate", file=sys.stderr)
            return 0
        baseline = gate.make_baseline(previous)
    if baseline is None:
        return 0
    failures = gate.check(record, baseline)
    source = args.baseline if args.baseline != "latest" else f"run {baseline['run_id']}"
    if failures:
        print(f"REGRESSION against {source}:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return gate.GATE_FAILED
    print(f"gate passed against {source} ({len(baseline['tolerances'])} metrics)")
    return 0


def print_summary(record: RunRecord, folder: Path) -> None:
    metrics = record.metrics
    print(f"{record.suite} / {record.mode}: {metrics['questions']} questions, {metrics['errors']} errors, {record.seconds:.0f} s")
    for name in HEADLINE_METRICS:
        if name in metrics["overall"]:
            print(f"  {name:<20} {format_value(name, metrics['overall'][name])}")
    print(f"run record: {folder / records.RUN_FILE}")
    print(f"report:     {folder / records.REPORT_FILE}")


def cmd_list(args: argparse.Namespace) -> int:
    runs_dir = _settings(args).runs_dir
    folders = records.run_folders(runs_dir)
    unfinished = records.unfinished_runs(runs_dir)
    if not folders and not unfinished:
        print(f"No eval runs in {runs_dir} yet; start one with `rag eval`.")
        return 0
    for folder in folders:
        record = records.load_run(folder)
        metrics = record.metrics
        key = "correct" if record.mode == ANSWERS else "hit@5"
        value = format_value(key, metrics["overall"].get(key))
        print(
            f"{folder.name}  {metrics['questions']:4d} questions  {metrics['errors']:3d} errors  "
            f"{key} {value}  {record.seconds:7.0f} s"
        )
    for run_id, done in unfinished:
        print(f"{run_id}  unfinished: {done} questions recorded in {runs_dir / run_id / records.PARTIAL_FILE}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    folder = records.resolve_run(args.run, _settings(args).runs_dir)
    print((folder / records.REPORT_FILE).read_text(encoding="utf-8"), end="")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    runs_dir = _settings(args).runs_dir
    a, b = (records.load_run(records.resolve_run(ref, runs_dir)) for ref in (args.a, args.b))
    print(render_compare(a, b), end="")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    runs_dir = _settings(args).runs_dir
    runs = [records.load_run(folder) for folder in records.run_folders(runs_dir)]
    out = plot_history(runs, args.out or runs_dir / "history.png")
    print(out)
    return 0
