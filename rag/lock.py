"""The write lock of one RAG_HOME: one process (and one thread) writes the index at a time.

A second writer waits its turn rather than being refused: two `rag ingest` runs, or an
upload in `rag serve` during a `rag ingest`, then both land, one after the other, and
neither can see the index halfway through the other's write. Waiting cannot deadlock on
a dead writer, because the lock is an flock on RAG_HOME/index.lock: the kernel releases it
when its process exits in any way, SIGKILL included, so there is never a stale lock to
delete by hand. A writer that hangs keeps the others waiting; the message names its pid.

Readers take no lock. The lexical index commits in SQLite transactions, so a reader sees
the last committed write; only the repair of an interrupted write (ChunkStore.sync) needs
the lock, and a reader skips it while a writer is at work (that writer's commit ends the
difference the reader would otherwise repair).
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rag.errors import StoreError

LOCK_FILE = "index.lock"


def announce_waiting(holder: str) -> None:
    print(f"Another rag ingest ({holder}) is writing this index; waiting…", file=sys.stderr, flush=True)


@dataclass
class _Holding:
    """This process's hold on one lock file: flock allows one holder per open file, so the
    threads of a process share one, and a thread that holds it may take it again."""

    threads: threading.RLock = field(default_factory=threading.RLock)
    file: IO | None = None
    depth: int = 0


_holdings: dict[Path, _Holding] = {}
_holdings_guard = threading.Lock()


class IndexLock:
    def __init__(self, home: Path):
        self.path = Path(home) / LOCK_FILE

    @contextmanager
    def writing(self, on_wait: Callable[[str], None] = announce_waiting) -> Iterator[None]:
        """Hold the lock for the block, waiting (and saying so once) while another writer has it."""
        holding = self._holding()
        if not holding.threads.acquire(blocking=False):
            on_wait("another thread of this process")
            holding.threads.acquire()
        try:
            with self._flocked(holding, on_wait) as held:
                assert held
                yield
        finally:
            holding.threads.release()

    @contextmanager
    def try_writing(self) -> Iterator[bool]:
        """Hold the lock for the block if nobody else has it; yields whether it is held."""
        holding = self._holding()
        if not holding.threads.acquire(blocking=False):
            yield False
            return
        try:
            with self._flocked(holding, None) as held:
                yield held
        finally:
            holding.threads.release()

    def _holding(self) -> _Holding:
        with _holdings_guard:
            return _holdings.setdefault(self.path.resolve(), _Holding())

    @contextmanager
    def _flocked(self, holding: _Holding, on_wait: Callable[[str], None] | None) -> Iterator[bool]:
        """The flock, taken by the outermost holder in this process; on_wait None: do not wait."""
        if holding.depth == 0:
            holding.file = self._take(on_wait)
            if holding.file is None:
                yield False
                return
        holding.depth += 1
        try:
            yield True
        finally:
            holding.depth -= 1
            if holding.depth == 0:
                holding.file.close()  # closing the file releases the flock
                holding.file = None

    def _take(self, on_wait: Callable[[str], None] | None) -> IO | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            file = open(self.path, "a+", encoding="utf-8")  # not inherited by child processes (PEP 446)
        except OSError as exc:
            raise StoreError(
                f"Cannot write the index at {self.path.parent}: {exc.strerror or exc}. "
                "Point RAG_HOME (or --home) at a writable folder."
            ) from None
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is None:
                file.close()
                return None
            file.seek(0)
            pid = file.read().strip()
            on_wait(f"pid {pid}" if pid else "pid unknown")
            fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()))
        file.flush()
        return file
