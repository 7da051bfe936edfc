"""The lexical index's term rows of a write's chunks, analysed in a worker process beside Chroma.

Chroma's `add` holds the GIL and keeps one core busy (docs/benchmarks.md), so the Arabic
analysis, most of the lexical index's write, runs on the other core while Chroma stores the
vectors. The worker is a plain child process, `python -m rag.term_rows`, that reads one JSON
line of texts on its stdin and answers one JSON line of rows on its stdout. It imports nothing
of its caller's, and it ends when its stdin closes: when the caller exits or is killed.

A small write is analysed in the caller when its rows are asked for: a worker is not worth
starting for it. A worker that fails costs time, never rows: they are analysed in the caller.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import sys
import threading

from rag.arabic import analyze, skeleton
from rag.types import Chunk

log = logging.getLogger(__name__)

# A write of at least this many chunks is analysed by the worker.
WORKER_FROM = 200


def term_rows(texts: list[str]) -> list[tuple[str, str]]:
    """What the FTS5 tables hold for each text: its analysed terms, and their distinct skeletons."""
    rows = []
    for text in texts:
        terms = analyze(text)
        rows.append((" ".join(terms), " ".join(dict.fromkeys(map(skeleton, terms)))))
    return rows


class TermRows:
    """The term rows of these chunks: started now, handed over by `result`."""

    def __init__(self, chunks: list[Chunk]):
        self._texts = [chunk.indexed_text() for chunk in chunks]
        self._worker = _WORKER.start(self._texts) if len(self._texts) >= WORKER_FROM else None
        self._rows: list[tuple[str, str]] | None = None

    def result(self) -> list[tuple[str, str]]:
        if self._rows is None:
            worker, self._worker = self._worker, None
            self._rows = (worker.finish() if worker is not None else None) or term_rows(self._texts)
        return self._rows


class _Worker:
    """This process's one analysis worker: one request at a time, started on first use."""

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._busy = threading.Lock()

    def start(self, texts: list[str]) -> _Worker | None:
        """Send the texts; None when the worker is busy with another write or cannot take them."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "rag.term_rows"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
                )
            self._process.stdin.write(json.dumps(texts, ensure_ascii=False) + "\n")
            self._process.stdin.flush()
            return self
        except OSError:
            self._fail()
            self._busy.release()
            return None

    def finish(self) -> list[tuple[str, str]] | None:
        """The rows of the texts sent; None when the worker failed."""
        try:
            answer = self._process.stdout.readline()
            if not answer:
                raise OSError("the worker closed its output")
            return [tuple(row) for row in json.loads(answer)]
        except (OSError, ValueError):
            self._fail()
            return None
        finally:
            self._busy.release()

    def stop(self) -> None:
        """Close the worker's input, which ends it, and wait for it (at this process's exit)."""
        if self._process is not None:
            self._process.stdin.close()
            self._process.wait()
            self._process = None

    def _fail(self) -> None:
        log.warning("The term-analysis worker stopped; this write's terms are analysed in this process.")
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def _serve() -> None:
    try:
        for line in sys.stdin:
            sys.stdout.write(json.dumps(term_rows(json.loads(line)), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    except BrokenPipeError:  # the caller is gone
        os._exit(0)


if __name__ == "__main__":
    _serve()
