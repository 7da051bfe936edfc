"""The terminal's view of an answer: the passages being read, the draft as it streams, then
each checked sentence with its verdict mark and the cited passages (`rag ask`, `rag chat`, `rag logs show`)."""
from __future__ import annotations

import sys

from rag.errors import RagError
from rag.types import SUPPORTED, UNCITED, UNSUPPORTED, Answer, Passage

VERDICT_MARKS = {SUPPORTED: "✓", UNSUPPORTED: "✗", UNCITED: "?"}


def stream_to_terminal(pipeline, question: str, history: list) -> Answer:
    """Show the passages being read and the draft as the model writes it (on a terminal),
    then return the checked Answer."""
    live = sys.stdout.isatty()
    shown = ""
    for update in pipeline.ask_stream(question, history):
        if update.passages is not None:
            if live:
                print(reading_line(update.passages), flush=True)
            continue
        if update.answer is not None:
            if live and shown:
                print("\n")
            return update.answer
        if live:
            if update.text.startswith(shown):
                sys.stdout.write(update.text[len(shown) :])
            else:
                sys.stdout.write("\n" + update.text)
            sys.stdout.flush()
            shown = update.text
    raise RagError("The model stopped without an answer.")


def reading_line(passages: list[Passage]) -> str:
    """The passages the model is about to read, by article: "Reading: [1][3] headline · [2] headline"."""
    from rag.passages import by_article

    return "Reading: " + " · ".join(
        "".join(f"[{n}]" for n in numbers) + f" {headline}" for headline, numbers in by_article(passages)
    )


def print_answer(answer: Answer) -> None:
    if answer.abstained:
        print(answer.text)
    else:
        for sentence in answer.sentences:
            marks = "".join(f"[{c.passage}]" for c in sentence.citations)
            print(f"{VERDICT_MARKS[sentence.verdict]} {sentence.text} {marks}".rstrip())
    if answer.cut_short:
        print("  (the model reached max_answer_tokens and stopped mid-answer; raise max_answer_tokens "
              "(RAG_MAX_ANSWER_TOKENS) for the rest)", file=sys.stderr)
    for sentence in answer.withheld:
        print(f"  (not shown: {sentence.text} — {sentence.withheld})", file=sys.stderr)
    cited = answer.cited_passages
    if cited:
        print("\nSources:")
        for passage in cited:
            verdicts = {c.supported for s in answer.sentences for c in s.citations if c.passage == passage.number}
            mark = "✓" if True in verdicts else "✗"
            print(f"  [{passage.number}] {mark} {passage.headline} ({passage.article_id}, chars {passage.start}-{passage.end})")
            print(f"      «{passage.text}»")
    t = answer.timings
    print(
        f"\n{answer.model} · {answer.usage.get('prompt_tokens', 0)} prompt tokens · "
        f"first token {t.get('first_token_s', 0):.1f} s · total {t.get('total_s', 0):.1f} s",
        file=sys.stderr,
    )
