"""`rag logs`: browse the logged answers, and promote one into the gold set."""
from __future__ import annotations

import argparse
import json
import re
import time
from datetime import datetime
from pathlib import Path

from rag.answer_log import AnswerLog, LoggedAnswer
from rag.arabic import collapse_whitespace
from rag.errors import InputError
from rag.eval.gold import SEEDS_DIR, SEEDS_GOLD

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def register(commands, common) -> None:
    p = commands.add_parser(
        "logs",
        parents=[common],
        help="the logged answers: list, show one, promote one to the gold set",
        description="Every answer from `rag ask`, `rag chat` and the browser is kept in HOME/answers.sqlite "
        "(never sent anywhere; RAG_LOG=off keeps none). Without a subcommand: the latest answers, newest first.",
    )
    p.add_argument("-n", "--limit", type=int, default=20, help="how many answers (default: 20)")
    p.add_argument("--since", help="only answers since a time: 2026-11-26, 2026-11-26T14:00, or 30m / 2h / 3d / 1w ago")
    p.add_argument("--rating", choices=("up", "down"), help="only answers rated thumbs up or down")
    p.add_argument("--json", action="store_true", help="print the answers as JSON lines, whole")
    p.set_defaults(handler=cmd_list)
    which = p.add_subparsers(dest="logs_command", metavar="SUBCOMMAND")

    s = which.add_parser("show", parents=[common], help="one logged answer, with its passages and verdicts")
    s.add_argument("id", type=int)
    s.add_argument("--json", action="store_true", help="print the whole row as JSON")
    s.set_defaults(handler=cmd_show)

    s = which.add_parser(
        "promote",
        parents=[common],
        help="turn a logged answer into a gold item (you confirm or edit each field)",
        description="Drafts a gold item from the answer (its figures become required_facts, its cited articles "
        "gold_articles), asks you to confirm or edit each field, checks it as the gold-set test does, and "
        "appends it to the gold file.",
    )
    s.add_argument("id", type=int)
    s.add_argument("--gold", type=Path, default=SEEDS_GOLD, help=f"gold file to append to (default: {SEEDS_GOLD})")
    s.add_argument("--articles", type=Path, default=SEEDS_DIR, help=f"the articles the gold set covers (default: {SEEDS_DIR}/)")
    s.set_defaults(handler=cmd_promote)


def _log(args) -> AnswerLog:
    from rag.settings import settings_from

    settings = settings_from(args)[0]
    log = AnswerLog(settings)
    if not log.path.exists():
        state = "off (RAG_LOG=off)" if not log.enabled else "on, but nothing has been answered yet"
        raise InputError(f"No answer log at {log.path}: logging is {state}.")
    return log


def parse_since(text: str, now: float | None = None) -> float:
    """A Unix time from an ISO date/time or a span back from now ("2h")."""
    now = time.time() if now is None else now
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now - int(relative[1]) * _UNIT_SECONDS[relative[2]]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise InputError(f"--since {text!r}: give a date (2026-11-26), a time (2026-11-26T14:00) or a span (30m, 2h, 3d, 1w).") from None


def cmd_list(args: argparse.Namespace) -> int:
    since = parse_since(args.since) if args.since else None
    logged = _log(args).recent(args.limit, since=since, rating=args.rating)
    if args.json:
        for entry in logged:
            print(json.dumps(entry.to_dict(), ensure_ascii=False))
        return 0
    if not logged:
        print("No logged answers match.")
        return 0
    for entry in logged:
        print(summary_line(entry))
    print("\n`rag logs show ID` shows one; `rag logs promote ID` makes it a gold item.")
    return 0


def summary_line(entry: LoggedAnswer) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.time))
    rating = {"up": "👍", "down": "👎"}.get(entry.rating or "", "  ")
    answer = "(declined) " if entry.answer.abstained else ""
    return f"{entry.id:>5}  {when}  {entry.source:<4} {rating} {_short(entry.answer.question, 60)}  →  {answer}{_short(entry.answer.text, 80)}"


def _short(text: str, width: int) -> str:
    text = collapse_whitespace(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_show(args: argparse.Namespace) -> int:
    from rag.terminal import print_answer

    entry = _log(args).get(args.id)
    if args.json:
        print(json.dumps(entry.to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = entry.answer
    print(f"#{entry.id} · {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(entry.time))} · {entry.source} · session {entry.session}")
    print(f"Question: {answer.question}")
    if answer.standalone_question and answer.standalone_question != answer.question:
        print(f"Searched as: {answer.standalone_question}")
    print()
    print_answer(answer)
    if entry.rating:
        print(f"\nRated {entry.rating}" + (f": {entry.comment}" if entry.comment else ""))
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from rag.eval.gold_check import source_articles
    from rag.eval.promote import promote

    entry = _log(args).get(args.id)
    if not args.gold.parent.is_dir():
        raise InputError(f"{args.gold.parent} does not exist; run this in the project folder or give --gold FILE.")
    promote(entry, args.gold, source_articles(args.articles))
    return 0
