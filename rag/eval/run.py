"""What an eval run is: its mode, and the record it leaves (run.json), read and written here only.

A record's results are rows of data, one per question, kept as dicts so that a row can be
appended to results.jsonl as it is made and read back from old records as written:
id, type, language, question, history, gold_articles, required_facts, answers, error,
answer (the Answer's `to_dict()`; answer runs only), retrieved_articles and scores.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

RETRIEVAL, ANSWERS = "retrieval", "answers"
MODES = (RETRIEVAL, ANSWERS)


@dataclass
class RunRecord:
    suite: str
    mode: str  # RETRIEVAL or ANSWERS
    selection: dict  # {"ids": [...] or None, "limit": n or None}
    started_at: str  # UTC, ISO 8601
    seconds: float
    config: dict  # settings, models, packages, git, gold set and index it ran with (runner.run_config)
    metrics: dict  # metrics.summarize(results)
    results: list[dict]
    run_id: str | None = None  # the name of its folder; given when it is saved

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunRecord:
        return cls(**{**data, "results": [_answer_inside(result) for result in data["results"]]})


# Records written before a result kept its whole Answer had result["answer"] as the answer's
# text and these fields beside it; their passages lack headline and chunk_id.
_FLAT_ANSWER_FIELDS = ("sentences", "passages", "abstained", "standalone_question", "model", "timings", "usage", "raw_output")


def _answer_inside(result: dict) -> dict:
    """A result of an old record in today's layout: its answer's fields gathered as Answer.to_dict() has them."""
    if not isinstance(result.get("answer"), str):
        return result
    row = dict(result)
    answer = {
        "question": row["question"],
        "language": row.pop("answer_language"),
        "text": row.pop("answer"),
        **{name: row.pop(name) for name in _FLAT_ANSWER_FIELDS},
        "retrieved_articles": row["retrieved_articles"],
        "withheld": row.pop("withheld", []),  # the oldest records have none
    }
    answer["passages"] = [{"headline": "", "chunk_id": "", **passage} for passage in answer["passages"]]
    return {**row, "answer": answer}
