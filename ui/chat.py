"""The conversation of one browser session: turns in, chat messages out, streamed.

A question shows at once, waiting for its turn at the one model; a question over a
limit (its length, the session's answers per minute) is a note in place of its answer.

The answer is computed in a worker thread and the stream polls it, so Stop takes
effect within POLL_SECONDS even while the model is still reading the prompt; the
worker then ends at the model's next step.

The passages being read, the first words and the checked answer reach the page at
once; the words after the first at most every DRAFT_SECONDS. Every update is the
whole conversation, post-processed, diffed and sent by Gradio, then re-rendered by
the browser: once per token, that work took CPU from the model writing the answer.
"""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace

from rag.arabic import detect_language
from rag.errors import RagError
from rag.pipeline import AnswerUpdate, Pipeline
from rag.settings import Settings
from rag.types import Answer, Passage
from ui.render import answer_html, direction, draft_html, error_html, question_html, stopped_html

log = logging.getLogger(__name__)

Messages = list[dict]
Update = tuple[Messages, list["Turn"]]
POLL_SECONDS = 0.25
DRAFT_SECONDS = 0.25
_DONE = object()
WAITING = {
    "ar": "ينتظر دوره: يجيب النموذج عن سؤال واحد في كل مرة.",
    "en": "Waiting for its turn: the model answers one question at a time.",
}


@dataclass(frozen=True)
class Turn:
    """One question and how its answer is shown right now."""

    question: str
    language: str
    html: str
    draft: str = ""  # streamed text so far
    passages: tuple[Passage, ...] = ()  # what the model is reading, shown under the draft
    answer: Answer | None = None  # set once the answer is checked
    log_id: int | None = None  # its row in the answer log (None: logging is off)
    # Notes in place of an answer, replaced when the next answer starts:
    waiting: bool = False  # asked, and waiting in the queue for the model
    refused: bool = False  # a limit kept it from being asked; it is back in the box


def messages(turns: list[Turn]) -> Messages:
    """Two chat messages per turn, so message i belongs to turn i // 2."""
    return [
        message
        for turn in turns
        for message in (
            {"role": "user", "content": question_html(turn.question)},
            {"role": "assistant", "content": turn.html},
        )
    ]


def turn_of_message(turns: list[Turn], index: int | tuple) -> Turn | None:
    """The turn a chat message (by its index in `messages(turns)`) belongs to."""
    return turns[index // 2] if isinstance(index, int) and 0 <= index < 2 * len(turns) else None


def history(turns: list[Turn]) -> list[tuple[str, str]]:
    """(question, answer) pairs of the answered turns, for follow-up questions."""
    return [(t.question, t.answer.text) for t in turns if t.answer is not None]


class AnswerRate:
    """When each session's recent answers started, to hold a session to `per_minute` answers a minute."""

    WINDOW_SECONDS = 60.0

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._started: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, session: str, per_minute: int) -> float:
        """0.0 if the session may start an answer now (it is counted), else the seconds until it may."""
        with self._lock:
            now = self._clock()
            for name, started in list(self._started.items()):  # sessions that went quiet are forgotten
                while started and started[0] <= now - self.WINDOW_SECONDS:
                    started.popleft()
                if not started:
                    del self._started[name]
            started = self._started.setdefault(session, deque())
            if len(started) >= per_minute:
                return started[-per_minute] + self.WINDOW_SECONDS - now
            started.append(now)
            return 0.0


def over_limit(question: str, settings: Settings, rate: AnswerRate, session: str) -> str | None:
    """Why `question` cannot be asked now, or None; an answer it may start is counted against the session."""
    question = (question or "").strip()
    if not question:
        return None
    if len(question) > settings.max_question_chars:
        return (
            f"Your question is {len(question):,} characters long; this server takes questions of up to "
            f"{settings.max_question_chars:,} characters (max_question_chars). Shorten it and press Enter again."
        )
    wait = rate.admit(session, settings.max_answers_per_minute)
    if wait:
        return (
            f"This chat has had {settings.max_answers_per_minute} answers in the last minute, the most this server "
            f"gives one chat (max_answers_per_minute), so that others get their turn. You can ask again in "
            f"{math.ceil(wait)} s; your question is back in the box."
        )
    return None


def refuse(question: str, turns: list[Turn], message: str) -> Update:
    """Show in the chat why `question` was not asked."""
    question = question.strip()
    turns = [*asked(turns), Turn(question, detect_language(question), error_html(message), refused=True)]
    return messages(turns), turns


def wait_for_turn(question: str, turns: list[Turn]) -> Update:
    """Show `question` at once, waiting for the model, while earlier questions are answered."""
    question = (question or "").strip()
    if not question:
        return messages(turns), turns
    language = detect_language(question)
    note = f'<div class="msg answer draft waiting" dir="{direction(language)}" lang="{language}">{WAITING[language]}</div>'
    turns = [*asked(turns), Turn(question, language, note, waiting=True)]
    return messages(turns), turns


def asked(turns: list[Turn]) -> list[Turn]:
    """The turns without the notes standing in for an answer."""
    return [turn for turn in turns if not (turn.refused or turn.waiting)]


class StopFlags:
    """The stop flag of each session's running answer."""

    def __init__(self):
        self._flags: dict[str, threading.Event] = {}

    @contextmanager
    def running(self, session: str) -> Iterator[threading.Event]:
        flag = self._flags[session] = threading.Event()
        try:
            yield flag
        finally:
            if self._flags.get(session) is flag:
                del self._flags[session]

    def is_running(self, session: str) -> bool:
        return session in self._flags

    def stop(self, session: str) -> None:
        if (flag := self._flags.get(session)) is not None:
            flag.set()


def respond(
    pipeline: Pipeline,
    question: str,
    turns: list[Turn],
    stop: threading.Event,
    clock=time.monotonic,
    keep: Callable[[Answer], int | None] = lambda answer: None,
) -> Iterator[Update | None]:
    """Add a turn for `question` and stream its answer into it; problems become a message in the chat.

    Yields None while there is nothing new to show. Once `stop` is set the answer so far
    is marked stopped and kept out of the history. `keep` stores a checked answer in the
    answer log and returns its id; a stopped or failed answer is never kept.
    """
    question = (question or "").strip()
    if not question:
        yield messages(turns), turns
        return
    turns = asked(turns)
    language = detect_language(question)
    turn = Turn(question, language, draft_html("", language))
    past = history(turns)
    turns = [*turns, turn]
    yield messages(turns), turns
    shown, shown_at = turn, clock()
    try:
        with closing(in_background(pipeline.ask_stream(question, past))) as updates:
            for update in updates:
                if stop.is_set():
                    turns = [*turns[:-1], replace(turn, html=stopped_html(turn.draft, language))]
                    yield messages(turns), turns
                    return
                if update is not None:
                    turn = advanced(pipeline, turn, update)
                    if update.answer is not None:
                        turn = replace(turn, log_id=keep(update.answer))
                if turn is not shown and (urgent(update, shown) or clock() - shown_at >= DRAFT_SECONDS):
                    turns = [*turns[:-1], turn]
                    yield messages(turns), turns
                    shown, shown_at = turn, clock()
                elif update is None:
                    yield None
    except RagError as exc:
        turns = [*turns[:-1], replace(turn, html=error_html(str(exc)))]
        yield messages(turns), turns
    except Exception as exc:
        log.exception("answering %r failed", question)
        message = f"Something went wrong while answering ({type(exc).__name__}: {exc}). The server log has the details."
        turns = [*turns[:-1], replace(turn, html=error_html(message))]
        yield messages(turns), turns


def advanced(pipeline: Pipeline, turn: Turn, update: AnswerUpdate) -> Turn:
    """The turn as `update` leaves it: reading its passages, with more of the draft, or answered."""
    if update.answer is not None:
        contexts = passage_contexts(pipeline, update.answer.passages)
        return replace(turn, answer=update.answer, html=answer_html(update.answer, uuid.uuid4().hex[:8], contexts))
    if update.passages is not None:
        return replace(turn, passages=tuple(update.passages), html=draft_html(turn.draft, turn.language, update.passages))
    return replace(turn, draft=update.text, html=draft_html(update.text, turn.language, turn.passages))


def urgent(update: AnswerUpdate | None, shown: Turn) -> bool:
    """The passages, the first words and the checked answer are sent at once; later words can wait."""
    return update is not None and (update.answer is not None or update.passages is not None or not shown.draft)


def in_background(updates: Iterator[AnswerUpdate]) -> Iterator[AnswerUpdate | None]:
    """Run `updates` in a worker thread, yielding None every POLL_SECONDS while waiting.

    Closing this generator makes the worker stop (and close `updates`) at its next update.
    """
    found: queue.Queue = queue.Queue()
    stopped = threading.Event()

    def work() -> None:
        try:
            with closing(updates):
                for update in updates:
                    found.put(update)
                    if stopped.is_set():
                        return
        except Exception as exc:  # re-raised in the reader
            found.put(exc)
        finally:
            found.put(_DONE)

    threading.Thread(target=work, name="answer", daemon=True).start()
    try:
        while True:
            try:
                item = found.get(timeout=POLL_SECONDS)
            except queue.Empty:
                yield None
                continue
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stopped.set()


def passage_contexts(pipeline: Pipeline, passages: list[Passage]) -> dict[int, tuple[str, str]]:
    """For each passage number, the text of its chunk before and after the passage."""
    chunks = {chunk.id: chunk for chunk in pipeline.store.chunks(sorted({p.chunk_id for p in passages}))}
    return {
        p.number: (chunk.text[: p.start - chunk.start], chunk.text[p.end - chunk.start :])
        for p in passages
        if (chunk := chunks.get(p.chunk_id)) is not None
    }
