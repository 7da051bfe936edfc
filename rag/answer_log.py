"""Every answer, kept in SQLite under RAG_HOME, to browse (`rag logs`), rate in the chat,
and promote into the gold set (`rag logs promote`).

A row keeps what is needed to judge the answer later: the question as asked and as
answered (after the follow-up rewrite), the whole checked Answer (the passages shown, each
sentence with its verdicts and reasons, the withheld ones, the model's raw output, timings
and tokens), the settings and model file hash it was made with, the session, and the
reader's rating. Nothing in it is sent anywhere; the `log` setting (RAG_LOG=off) keeps none.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import InputError
from rag.settings import Settings
from rag.types import Answer

RATINGS = ("up", "down")
SOURCES = ("cli", "chat", "api")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    session TEXT NOT NULL,
    source TEXT NOT NULL,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answer TEXT NOT NULL,
    model TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    settings TEXT NOT NULL,
    first_token_s REAL,
    total_s REAL,
    prompt_tokens INTEGER,
    answer_tokens INTEGER,
    rating TEXT,
    comment TEXT,
    rated_at REAL
);
CREATE INDEX IF NOT EXISTS answers_time ON answers(time);
"""


@dataclass
class LoggedAnswer:
    id: int
    time: float
    session: str
    source: str  # cli | chat | api
    answer: Answer
    model_sha256: str
    settings: dict
    rating: str | None = None  # up | down | None
    comment: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.time)),
            "session": self.session,
            "source": self.source,
            "rating": self.rating,
            "comment": self.comment,
            "model_sha256": self.model_sha256,
            "settings": self.settings,
            "answer": self.answer.to_dict(),
        }


def model_sha256(settings: Settings) -> str:
    """The sha256 of the model file that wrote the answers: the bundled GGUF's known hash, a
    configured GGUF's own, or the digest Ollama reports for its model ("" when it cannot say)."""
    if settings.backend == "embedded":
        if not settings.gguf_path:
            from rag.backends.gguf import MODEL_SHA256

            return MODEL_SHA256
        path = Path(settings.gguf_path)
        return _file_sha256(str(path), *_identity(path)) if path.is_file() else ""
    return _ollama_digest(settings.ollama_host, settings.ollama_model)


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:  # size and mtime: a changed file is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_OLLAMA_DIGESTS: dict[tuple[str, str], str] = {}


def _ollama_digest(host: str, model: str) -> str:
    import ollama

    if (host, model) not in _OLLAMA_DIGESTS:
        try:
            listed = ollama.Client(host=host, timeout=5).list().models
        except Exception:  # the answer is logged all the same, without the digest; asked again next time
            return ""
        wanted = model if ":" in model else f"{model}:latest"
        _OLLAMA_DIGESTS[host, model] = next((m.digest or "" for m in listed if m.model == wanted), "").removeprefix("sha256:")
    return _OLLAMA_DIGESTS[host, model]


def log_path(settings: Settings) -> Path:
    return settings.home / "answers.sqlite"


class AnswerLog:
    """The answer log of one RAG_HOME. Every call opens its own connection, so the chat's
    worker threads and a `rag logs` in another terminal can use it at once."""

    def __init__(self, settings: Settings):
        self.path = log_path(settings)
        self.enabled = settings.log != "off"
        self._settings = settings.to_dict()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            connection.row_factory = sqlite3.Row
            connection.executescript(_SCHEMA)
            with connection:  # one transaction: committed, or rolled back on any error
                yield connection

    def record(self, answer: Answer, *, session: str, source: str, model_sha256: str = "") -> int | None:
        """Keep `answer`; its row id, or None when logging is off."""
        if not self.enabled:
            return None
        if source not in SOURCES:
            raise ValueError(f"unknown answer source {source!r}")
        with self._connection() as db:
            cursor = db.execute(
                "INSERT INTO answers (time, session, source, question, standalone_question, language, text, abstained, "
                "answer, model, model_sha256, settings, first_token_s, total_s, prompt_tokens, answer_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(), session, source, answer.question, answer.standalone_question or answer.question,
                    answer.language, answer.text, int(answer.abstained),
                    json.dumps(answer.to_dict(), ensure_ascii=False), answer.model, model_sha256,
                    json.dumps(self._settings, ensure_ascii=False),
                    answer.timings.get("first_token_s"), answer.timings.get("total_s"),
                    answer.usage.get("prompt_tokens"), answer.usage.get("answer_tokens"),
                ),
            )
            return cursor.lastrowid

    def rate(self, answer_id: int, rating: str | None, comment: str = "") -> None:
        """Thumbs up or down (None takes the rating back), with an optional comment."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"unknown rating {rating!r}")
        with self._connection() as db:
            updated = db.execute(
                "UPDATE answers SET rating = ?, comment = ?, rated_at = ? WHERE id = ?",
                (rating, comment.strip(), time.time(), answer_id),
            ).rowcount
        if not updated:
            raise InputError(f"No logged answer {answer_id}; `rag logs` lists them.")

    def get(self, answer_id: int) -> LoggedAnswer:
        with self._connection() as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            raise InputError(f"No logged answer {answer_id}; `rag logs` lists them.")
        return _logged(row)

    def recent(self, limit: int = 20, *, since: float | None = None, rating: str | None = None) -> list[LoggedAnswer]:
        """The latest answers, newest first; only those after `since` (a Unix time) or with `rating`."""
        query, values = "SELECT * FROM answers WHERE time >= ?", [since or 0.0]
        if rating is not None:
            query += " AND rating = ?"
            values.append(rating)
        with self._connection() as db:
            rows = db.execute(query + " ORDER BY id DESC LIMIT ?", (*values, limit)).fetchall()
        return [_logged(row) for row in rows]


def _logged(row: sqlite3.Row) -> LoggedAnswer:
    return LoggedAnswer(
        id=row["id"],
        time=row["time"],
        session=row["session"],
        source=row["source"],
        answer=Answer.from_dict(json.loads(row["answer"])),
        model_sha256=row["model_sha256"],
        settings=json.loads(row["settings"]),
        rating=row["rating"],
        comment=row["comment"] or "",
    )
