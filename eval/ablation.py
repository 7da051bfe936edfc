"""What each answer-side lever adds, recomputed from the run records of `rag eval`.

    python eval/ablation.py BEFORE_RUN [BEFORE_RUN ...] -- AFTER_RUN
    python eval/ablation.py --steps "LABEL=RUN" "LABEL=RUN" ...

With --steps: one row per run, each made with one more lever than the one before it.

Rows: the "before" runs (their results pooled, so a gold set answered in two runs counts
once), the "after" run, and the after run with one post-model lever taken out again:
  - without the figure collector: the sentences it added (citation reason "the articles
    differ: ...") removed;
  - without the relevance filter: the sentences it withheld put back.
The focus-coverage gate cannot be taken out of a record (the model was never asked); its
row comes from a run made with the gate off (see eval/README.md).
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

from rag.eval.metrics import is_correct
from rag.eval.records import load_run
from rag.figures import FIGURE_REASON


def load(run: str) -> list[dict]:
    path = Path(run)
    return load_run(path if path.is_dir() else path.parent).results


def supported(sentence: dict) -> bool:
    return sentence["verdict"] == "supported"


def outcome(result: dict, sentences: list[dict]) -> dict:
    """Scores of one question had the answer been exactly `sentences`."""
    abstained = not any(supported(s) for s in sentences)
    text = "" if abstained else " ".join(s["text"] for s in sentences)
    answerable = bool(result["gold_articles"])
    return {
        "type": result["type"],
        "correct": is_correct(text, result["required_facts"], result["answers"]) if answerable else abstained,
        "refuses_absent": None if answerable else abstained,
        "answers_present": (not abstained) if answerable else None,
    }


def shown(result: dict) -> list[dict]:
    """The sentences the reader was shown; none for a failed question or an abstention."""
    answer = result.get("answer")
    return answer["sentences"] if answer and not answer["abstained"] else []


def as_run(result: dict) -> dict:
    return outcome(result, shown(result))


def without_figures(result: dict) -> dict:
    return outcome(result, [s for s in shown(result) if not all(c["reason"].startswith(FIGURE_REASON) for c in s["citations"])])


def without_relevance(result: dict) -> dict:
    return outcome(result, shown(result) + (result["answer"]["withheld"] if result.get("answer") else []))


def mean(values: list) -> str:
    values = [float(v) for v in values if v is not None]
    return f"{statistics.fmean(values):.3f}" if values else "–"


def row(name: str, scores: list[dict], results: list[dict] | None) -> str:
    by_type = lambda kind: [s["correct"] for s in scores if s["type"] == kind]  # noqa: E731
    cells = [
        mean([s["correct"] for s in scores]),
        mean([s["refuses_absent"] for s in scores]),
        mean([s["answers_present"] for s in scores]),
        mean(by_type("english")),
        mean(by_type("disagree")),
    ]
    if results:
        timings = [r["answer"]["timings"] for r in results if not r.get("error")]
        cells += [
            f"{statistics.median(t['first_token_s'] for t in timings if 'first_token_s' in t):.1f}",
            f"{statistics.median(t['total_s'] for t in timings if 'total_s' in t):.1f}",
        ]
    else:
        cells += ["–", "–"]
    return f"| {name} | " + " | ".join(cells) + " |"


def table(title: str, before: list[dict], after: list[dict]) -> None:
    print(f"\n{title}\n")
    print("| lever | correct | refuses_absent | answers_present | english | disagree | first token s (median) | total s (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    if before:
        print(row("before", [as_run(r) for r in before], before))
    print(row("after: all levers", [as_run(r) for r in after], after))
    print(row("after, without the figure collector", [without_figures(r) for r in after], None))
    print(row("after, without the relevance filter", [without_relevance(r) for r in after], None))


def steps(labelled_runs: list[str]) -> None:
    print("| lever | correct | refuses_absent | answers_present | english | disagree | first token s (median) | total s (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for labelled in labelled_runs:
        label, run = labelled.rsplit("=", 1)
        results = load(run)
        print(row(label, [as_run(r) for r in results], results))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--steps"]:
        return steps(argv[1:])
    split = argv.index("--")
    before = {r["id"]: r for run in argv[:split] for r in load(run)}
    after = load(argv[split + 1])
    common = [r for r in after if r["id"] in before]
    table(f"The {len(common)} questions both runs asked", [before[r["id"]] for r in common], common)
    if len(common) < len(after):
        table(f"All {len(after)} questions of the after run", [], after)


if __name__ == "__main__":
    main(sys.argv[1:])
