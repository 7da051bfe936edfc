"""The `rag` command: ingest articles, ask questions, chat, serve the UI, evaluate, benchmark."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.bench import register as register_bench
from rag.errors import RagError
from rag.eval.cli import register as register_eval
from rag.logs_cli import register as register_logs
from rag.settings import add_setting_flags, describe, settings_from
from rag.terminal import print_answer, stream_to_terminal


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_setting_flags(common)
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about Arabic news articles; every answer cites the passages it rests on, "
        "and each citation is checked against its passage.",
        epilog="Start with `rag ingest seeds/`, then `rag ask \"كم عدد الجنود الذين أرسلتهم كوريا الشمالية؟\"`. "
        "Set RAG_DEBUG=1 to see tracebacks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("ingest", parents=[common], help="add or update articles in the index")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")], help="files or folders (default: seeds/)")
    p.add_argument("--prune", action="store_true", help="delete indexed articles whose files are not among PATHS")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again from PATHS")
    p.set_defaults(handler=cmd_ingest)

    p = commands.add_parser("ask", parents=[common], help="answer one question with checked citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.set_defaults(handler=cmd_ask)

    p = commands.add_parser("chat", parents=[common], help="chat in the terminal; follow-up questions use the history")
    p.set_defaults(handler=cmd_chat)

    p = commands.add_parser("serve", parents=[common], help="open the chat in the browser (Gradio)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="require a login, as user:password")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    p.set_defaults(handler=cmd_serve)

    p = commands.add_parser("sources", parents=[common], help="list the indexed articles")
    p.set_defaults(handler=cmd_sources)

    p = commands.add_parser(
        "check", parents=[common], help="verify the index is whole (after a crash, or any time)",
        description="Verify, without changing anything, that the vector index (Chroma) and the lexical index "
        "hold the same chunks at the same revision, that every chunk has its vectors, and that every article "
        "is stored complete. Each problem found says what repairs it; usually `rag ingest` with the folder you "
        "ingested from. Exits 1 when there is a problem.",
    )
    p.set_defaults(handler=cmd_check)

    p = commands.add_parser("remove", parents=[common], help="remove an article from the index")
    p.add_argument("article_id")
    p.set_defaults(handler=cmd_remove)

    p = commands.add_parser("config", parents=[common], help="print the effective settings and where each came from")
    p.set_defaults(handler=cmd_config)

    for register in (register_eval, register_bench, register_logs):
        register(commands, common)
    return parser


def pipeline_from(args: argparse.Namespace):
    from rag.pipeline import Pipeline

    settings, _ = settings_from(args)
    return Pipeline(settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    pipeline = pipeline_from(args)
    report = pipeline.ingest(args.paths, prune=args.prune, rebuild=args.rebuild, progress=True)
    print(report.summary())
    for path, message in report.failed:
        print(f"refused {path}: {message}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_ask(args: argparse.Namespace) -> int:
    pipeline = pipeline_from(args)
    if args.json:
        answer = pipeline.ask(args.question)
        log_answer(pipeline, answer, session=f"cli-{os.getpid()}")
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = stream_to_terminal(pipeline, args.question, [])
    log_answer(pipeline, answer, session=f"cli-{os.getpid()}")
    print_answer(answer)
    return 0


def log_answer(pipeline, answer, *, session: str) -> None:
    from rag.answer_log import AnswerLog, model_sha256

    AnswerLog(pipeline.settings).record(answer, session=session, source="cli", model_sha256=model_sha256(pipeline.settings))


def cmd_chat(args: argparse.Namespace) -> int:
    pipeline = pipeline_from(args)
    history: list[tuple[str, str]] = []
    session = f"cli-{os.getpid()}"
    print("Ask about the articles. /clear forgets the conversation, /quit (or Ctrl-D) leaves.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if question in ("/quit", "/exit"):
            return 0
        if question == "/clear":
            history.clear()
            print("(conversation cleared)")
            continue
        if not question:
            continue
        try:
            answer = stream_to_terminal(pipeline, question, history)
        except RagError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        log_answer(pipeline, answer, session=session)
        print_answer(answer)
        history.append((question, answer.text))


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from ui.app import serve
    except ImportError as exc:
        raise RagError(f"The chat UI needs Gradio ({exc}). Install it with `pip install -e '.[ui]'`.") from None
    settings, _ = settings_from(args)
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise RagError("--auth takes user:password.")
        auth = (user, password)
    serve(settings, host=args.host, port=args.port, auth=auth, share=args.share)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    import datetime

    pipeline = pipeline_from(args)
    articles = pipeline.articles()
    if not articles:
        print("The index is empty. Add articles with `rag ingest seeds/`.")
        return 0
    for a in articles:
        when = datetime.datetime.fromtimestamp(a.ingested_at).strftime("%Y-%m-%d %H:%M")
        print(f"{a.article_id}  {a.chunks:3d} chunks  {when}  {a.headline}")
    print(f"{len(articles)} articles, {sum(a.chunks for a in articles)} chunks")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from rag.backends import make_embedder
    from rag.integrity import check_index
    from rag.lock import IndexLock
    from rag.store import ChunkStore

    settings, _ = settings_from(args)
    embedder = make_embedder(settings)
    with IndexLock(settings.home).writing():  # check between writes, not halfway through one
        store = ChunkStore(settings, embedder.name, embedder.dimension, repair=False)
        problems = check_index(store)
        articles = store.articles()
    size = f"{len(articles)} articles, {sum(a.chunks for a in articles)} chunks"
    if not problems:
        print(f"The index is whole: {size}; both halves agree and every article is complete.")
        return 0
    print(f"The index ({size}) has {len(problems)} problem{'s' if len(problems) > 1 else ''}:")
    for problem in problems:
        print(f"  - {problem.what}\n    repair: {problem.repair}")
    print("Then run `rag check` again.")
    return 1


def cmd_remove(args: argparse.Namespace) -> int:
    pipeline = pipeline_from(args)
    pipeline.remove_article(args.article_id)
    print(f"removed {args.article_id}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings, sources = settings_from(args)
    rows = describe(settings, sources)
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value:<40}  ({source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except RagError as exc:
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
