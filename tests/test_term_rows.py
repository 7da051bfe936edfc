"""A large write's terms are analysed in a worker process beside Chroma, with the same rows as in
this process; a worker that dies costs time, never rows, and never outlives its caller."""
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from rag import term_rows as term_rows_module
from rag.arabic import analyze, skeleton
from rag.term_rows import WORKER_FROM, TermRows, term_rows
from rag.types import Chunk

TEXTS = [
    "أرسلت كوريا الشمالية نحو 14,000 جندي إلى روسيا، بحسب الاستخبارات الكورية الجنوبية.",
    "قال الجيش الأوكراني إن صواريخ ستورم شادو أصابت مركز القيادة في كورسك.",
    "North Korean troops were sent to the Kursk region in 2024.",
]


def _chunks(count: int) -> list[Chunk]:
    return [Chunk(f"c{i}", f"a{i // 4}", "عنوان الخبر", f"{TEXTS[i % 3]} {i}", 0, 90, 30) for i in range(count)]


def _worker_pid() -> int | None:
    process = term_rows_module._WORKER._process
    return process.pid if process is not None and process.poll() is None else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_a_texts_rows_are_its_analysed_terms_and_their_distinct_skeletons():
    [(tokens, keys)] = term_rows([TEXTS[0]])
    terms = analyze(TEXTS[0])
    assert tokens.split() == terms
    assert sorted(keys.split()) == sorted({skeleton(term) for term in terms})
    assert "14000" in tokens.split()


def test_a_large_writes_rows_come_from_the_worker_and_equal_those_made_here():
    chunks = _chunks(WORKER_FROM)
    rows = TermRows(chunks)
    pid = _worker_pid()
    assert pid is not None and pid != os.getpid(), "a write this large is analysed in a worker process"
    assert rows.result() == term_rows([chunk.indexed_text() for chunk in chunks])


def test_a_small_write_is_analysed_in_this_process(monkeypatch):
    monkeypatch.setattr(term_rows_module._Worker, "start", lambda self, texts: pytest.fail("no worker for a small write"))
    chunks = _chunks(WORKER_FROM - 1)
    assert TermRows(chunks).result() == term_rows([chunk.indexed_text() for chunk in chunks])


def test_a_worker_killed_mid_write_costs_time_not_rows(caplog):
    chunks = _chunks(WORKER_FROM * 2)
    TermRows(chunks[:WORKER_FROM]).result()  # the worker is running
    rows = TermRows(chunks)
    os.kill(_worker_pid(), signal.SIGKILL)
    with caplog.at_level(logging.WARNING):
        assert rows.result() == term_rows([chunk.indexed_text() for chunk in chunks])
    assert "worker stopped" in caplog.text
    assert TermRows(chunks).result() == rows.result(), "the next write starts a new worker"
    assert _worker_pid() is not None


def test_the_worker_does_not_outlive_a_caller_that_is_killed():
    caller = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from rag.term_rows import TermRows, _WORKER; from rag.types import Chunk;"
         "rows = TermRows([Chunk(str(i), 'a', 'h', 'نص الخبر', 0, 8, 3) for i in range(300)]);"
         "print(_WORKER._process.pid, flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        worker = int(caller.stdout.readline())
        assert _alive(worker)
        caller.send_signal(signal.SIGKILL)
        caller.wait()
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker ends when its caller's pipe closes"
    finally:
        caller.kill()
        caller.wait()


def test_a_write_chroma_refuses_still_reads_the_workers_answer_so_the_next_write_can_use_it(tmp_path, monkeypatch):
    from rag.bench.scale import StandInEmbedder
    from rag.errors import StoreError
    from rag.settings import load_settings
    from rag.store import ArticleChunks, ChunkStore

    settings, _ = load_settings({"home": str(tmp_path / "home"), "chroma_url": ""})
    embedder = StandInEmbedder()
    store = ChunkStore(settings, embedder.name, embedder.dimension)
    chunks = _chunks(WORKER_FROM)
    article = ArticleChunks(chunks, embedder.embed_passages([c.text for c in chunks]), "hash", "src")

    def refuse(self, chunks):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ChunkStore, "_add", refuse)
    with pytest.raises(StoreError, match="disk full"):
        store.replace_articles([article])
    assert not term_rows_module._WORKER._busy.locked()
    rows = TermRows(chunks)
    assert rows._worker is not None, "the next large write goes to the worker"
    assert rows.result() == term_rows([chunk.indexed_text() for chunk in chunks])
