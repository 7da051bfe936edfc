"""Thumbs up/down on answers, appended as JSON lines to <home>/feedback.jsonl."""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from rag.settings import Settings
from rag.types import Answer


def feedback_path(settings: Settings) -> Path:
    return settings.home / "feedback.jsonl"


def record_feedback(settings: Settings, answer: Answer, rating: str) -> Path:
    """Store the rating ("up", "down", "withdrawn") with the question, answer, citations and settings."""
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rating": rating,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "sentences": [sentence.to_dict() for sentence in answer.sentences],
        "cited_passages": [asdict(p) for p in answer.cited_passages],
        "model": answer.model,
        "timings": answer.timings,
        "settings": settings.to_dict(),
    }
    path = feedback_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
