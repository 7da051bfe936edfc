"""Crash safety: `rag ingest` killed with SIGKILL at any moment never leaves an inconsistent index.

The invariant, after every kill:
1. before the index is opened again, `rag check` finds at most the traces of the write that
   was cut short (a revision or chunks one half has and the other lacks), each one marked
   as undone by opening the index;
2. opening it undoes that write (ChunkStore.sync), so the re-run `rag ingest FOLDER` has
   nothing to repair, finishes, and reports every article; `rag check` then finds nothing
   (every article complete in both halves, with its vectors and sentence vectors);
3. `rag ask` answers from the index.

The commands run as real processes; only embedding and the model's words come from the
FAKE Ollama (tests/fake_ollama.py), so one ingest of the 56 articles takes seconds.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fake_ollama import FakeOllamaServer
from reliability import record
from rag.arabic import split_sentences
from rag.integrity import INGEST_AGAIN, ON_OPEN, check_index
from rag.lexical import LexicalIndex
from rag.lock import IndexLock
from rag.store import ChunkStore

from conftest import ROOT, SEEDS, make_pipeline

ARTICLES = 56
QUESTION = "كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟"
SUMMARY = re.compile(r"(\d+) added, (\d+) replaced, (\d+) unchanged(, (\d+) repaired)?")
KILLS, REBUILD_KILLS = 20, 4


# --- the corpus: distinct articles composed from the seeds' sentences -----------------


def seed_sentences() -> list[str]:
    """The seeds' sentences, less the site boilerplate that cleaning would remove."""
    from rag.clean import is_boilerplate

    sentences = []
    for path in sorted(SEEDS.glob("*.txt")):
        body = path.read_text(encoding="utf-8").split("\n", 1)[1]
        sentences += [body[start:end].strip() for start, end in split_sentences(body)]
    return [s for s in sentences if len(s) > 30 and "\n" not in s and not is_boilerplate(s)]


def write_corpus(folder: Path, version: int) -> Path:
    """ARTICLES articles of 6 to 30 seed sentences each, the same for every version but for
    every other article, which version 2 changes (so re-ingesting it replaces them)."""
    from rag.clean import clean_article
    from rag.load import read_article

    folder.mkdir(parents=True)
    pool = seed_sentences()
    for i in range(ARTICLES):
        rng = random.Random(i)
        body = " ".join(rng.sample(pool, rng.randint(6, 30)))
        if version == 2 and i % 2:
            body += f" وأضاف التحديث رقم {i} تفاصيل جديدة عن الأحداث."
        path = folder / f"report_{i:03d}.txt"
        path.write_text(f"التقرير رقم {i} من سلسلة تقارير الحرب\n\n{body}\n", encoding="utf-8")
        clean_article(read_article(path))  # each must be a valid article, or the run would refuse it
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash-corpus")
    return write_corpus(root / "v1", 1), write_corpus(root / "v2", 2)


# --- running the commands ------------------------------------------------------------


def _env(home: Path, fake: FakeOllamaServer) -> dict:
    return {
        **os.environ, "RAG_HOME": str(home), "RAG_EMBEDDER": "ollama", "RAG_BACKEND": "ollama",
        "RAG_OLLAMA_HOST": fake.host, "PYTHONUNBUFFERED": "1",
    }


def rag(home: Path, fake: FakeOllamaServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], env=_env(home, fake), cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def start(home: Path, fake: FakeOllamaServer, *args: str, log: Path | None = None) -> subprocess.Popen:
    output = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args], env=_env(home, fake), cwd=ROOT, stdout=output, stderr=output,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def timeline_of_a_full_run(home: Path, fake: FakeOllamaServer, *args: str) -> list[float]:
    """When each request of one uninterrupted run reached the fake, and (last) when the run
    ended, in seconds since its first request."""
    before = len(fake.requests)
    process = start(home, fake, *args)
    times: list[float] = []
    while process.poll() is None:
        if len(fake.requests) - before > len(times):
            times += [time.monotonic()] * (len(fake.requests) - before - len(times))
        time.sleep(0.002)
    assert process.returncode == 0 and times, f"rag {' '.join(args)} failed"
    return [t - times[0] for t in times] + [time.monotonic() - times[0]]


def random_point(timeline: list[float], rng: random.Random) -> tuple[int, float]:
    """A moment drawn evenly over the run after its first request (opening, embedding, writing),
    as (requests seen, seconds after the last of them): counted from the requests, it lands in
    the same stretch of the run however loaded the machine is."""
    moment = rng.uniform(0.0, timeline[-1])
    seen = sum(1 for t in timeline[:-1] if t <= moment)
    return seen, round(moment - timeline[seen - 1], 3)


def kill_at(home: Path, fake: FakeOllamaServer, args: list[str], after_requests: int, delay: float) -> bool:
    """Run `rag ARGS` and SIGKILL it `delay` s after the fake has received `after_requests` of its
    requests. Returns whether it died by the kill (rather than finishing first)."""
    before = len(fake.requests)
    process = start(home, fake, *args)
    try:
        while process.poll() is None and len(fake.requests) - before < after_requests:
            time.sleep(0.005)
        time.sleep(delay)
        stop(process)
    finally:
        stop(process)
    return process.returncode == -signal.SIGKILL


def problems(check: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    """(what, repair) of each problem `rag check` printed."""
    return re.findall(r"^  - (.*)\n    repair: (.*)$", check.stdout, flags=re.MULTILINE)


def where_it_died(found: list[tuple[str, str]]) -> str:
    whats = " ".join(what for what, _ in found)
    if "in Chroma and not in the lexical index" in whats:
        return "after Chroma took chunks, before the SQLite commit"
    if "Chroma is at revision" in whats and "began and was not committed" in whats:
        return "stamped, before Chroma took chunks"
    if "began and was not committed" in whats:
        return "write recorded, before the stamp"
    return "no write under way (opening, embedding, between writes)"


def after_a_kill(home: Path, fake: FakeOllamaServer, folder: Path) -> tuple[str, list[str]]:
    """Where the kill landed, and every way the index breaks the invariant (module docstring)."""
    failures = []
    check = rag(home, fake, "check")
    found = problems(check)
    if check.returncode not in (0, 1) or (check.returncode == 1 and not found):
        failures.append(f"rag check failed: {check.stderr[-1500:]}")
    failures += [f"before reopening: {what} (repair: {repair})" for what, repair in found if repair != ON_OPEN]
    phase = where_it_died(found)

    rerun = rag(home, fake, "ingest", str(folder))
    summary = SUMMARY.search(rerun.stdout)
    if rerun.returncode != 0 or not summary:
        failures.append(f"the re-run did not finish: {rerun.stdout[-500:]} {rerun.stderr[-1500:]}")
    else:
        added, replaced, unchanged, _, repaired = summary.groups()
        if int(added) + int(replaced) + int(unchanged) != ARTICLES or repaired:
            failures.append(f"the re-run reported {summary.group(0)} for {ARTICLES} articles")
    check = rag(home, fake, "check")
    if check.returncode != 0 or f"The index is whole: {ARTICLES} articles" not in check.stdout:
        failures.append(f"after the re-run: {check.stdout[-1500:]} {check.stderr[-500:]}")

    chats = fake.paths().count("/api/chat")
    fake.reply_with(json.dumps({"found": True, "sentences": [{"text": "أرسلت كوريا الشمالية قوات إلى روسيا.", "passages": [1]}]}, ensure_ascii=False))
    ask = rag(home, fake, "ask", "--json", QUESTION)
    try:
        answer = json.loads(ask.stdout)
        if not answer["passages"] or fake.paths().count("/api/chat") != chats + 1:
            failures.append(f"rag ask answered without passages or without the model: {answer['text']}")
    except (json.JSONDecodeError, KeyError):
        failures.append(f"rag ask failed: {ask.stdout[-500:]} {ask.stderr[-1500:]}")
    return phase, failures


# --- the checks ------------------------------------------------------------------------


def one_kill(case: dict, built: Path, folder: Path, root: Path) -> dict:
    """Kill one run at its point and check the invariant; each case has its own home and its own fake."""
    home = root / f"kill-{case['case']}"
    if case["from"] == "version 1":
        shutil.copytree(built, home)
    args = ["ingest", str(folder)] + (["--rebuild"] if case["kind"] == "rebuild" else [])
    with FakeOllamaServer() as fake:
        if not kill_at(home, fake, args, case["killed_after_requests"], case["then_seconds"]):
            return {**case, "landed": False}
        phase, failures = after_a_kill(home, fake, folder)
    shutil.rmtree(home)
    return {**case, "landed": True, "phase": phase, "failures": failures}


@pytest.mark.heavy(covers=["rag/ingest.py", "rag/store.py", "rag/lexical.py", "rag/lock.py", "rag/integrity.py", "rag/chunk.py"])
@pytest.mark.timeout(5400)  # about 24 minutes on a busy 2-core machine
def test_sigkill_at_random_points_of_an_ingest_and_a_rebuild_leaves_a_whole_index(tmp_path, fake_ollama, corpus):
    from concurrent.futures import ThreadPoolExecutor

    v1, v2 = corpus
    built = tmp_path / "v1-home"
    fresh = timeline_of_a_full_run(built, fake_ollama, "ingest", str(v1))
    update = tmp_path / "measure-update"
    shutil.copytree(built, update)
    updating = timeline_of_a_full_run(update, fake_ollama, "ingest", str(v2))

    rng = random.Random(10)
    wanted = {"ingest": KILLS, "rebuild": REBUILD_KILLS}
    done: list[dict] = []
    planned = 0
    for _ in range(3):  # a run that finishes before its kill is no case: plan another
        short = {kind: n - sum(1 for c in done if c["kind"] == kind) for kind, n in wanted.items()}
        plan = []
        for kind, n in short.items():
            for _ in range(n):
                # every other ingest starts empty; the rest update version 1 to version 2 (replacing half)
                start_from = "empty" if kind == "ingest" and planned % 2 == 0 else "version 1"
                seen, delay = random_point(fresh if start_from == "empty" or kind == "rebuild" else updating, rng)
                plan.append({"case": planned, "kind": kind, "from": start_from, "killed_after_requests": seen, "then_seconds": delay})
                planned += 1
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(lambda case: one_kill(case, built, v2, tmp_path), plan))
        for result in results:
            print(f"kill {result['case']} ({result['kind']}, from {result['from']}) after request "
                  f"{result['killed_after_requests']} + {result['then_seconds']} s: "
                  f"{result['phase'] + '; ' + str(len(result['failures'])) + ' failures' if result['landed'] else 'finished first'}")
        done += [r for r in results if r["landed"]]

    failures = [{**{k: v for k, v in case.items() if k != "failures"}, "failure": f} for case in done for f in case["failures"]]
    phases: dict[str, int] = {}
    for case in done:
        phases[case["phase"]] = phases.get(case["phase"], 0) + 1
    landed = {kind: sum(1 for c in done if c["kind"] == kind) for kind in wanted}
    record("sigkill-ingest", len(done), failures, ingest_kills=landed["ingest"], rebuild_kills=landed["rebuild"],
           phases=phases, cases_run=[{k: v for k, v in c.items() if k != "failures"} for c in done], articles=ARTICLES,
           seconds_of_a_full_ingest_after_opening=round(fresh[-1], 1))
    assert failures == []
    assert landed == wanted
    assert phases.get("after Chroma took chunks, before the SQLite commit"), f"no kill landed inside a write: {phases}"


def test_two_ingests_at_once_take_turns_and_both_land(tmp_path, fake_ollama, corpus, monkeypatch):
    v1, _ = corpus
    first_half, second_half = tmp_path / "a", tmp_path / "b"
    first_half.mkdir(), second_half.mkdir()
    for path in sorted(v1.iterdir()):
        shutil.copy(path, first_half if int(path.stem[-3:]) < ARTICLES // 2 else second_half)
    home = tmp_path / "home"
    # The fake holds its embedding answers until the second ingest has come to the lock, so the
    # first is surely inside its turn (it embeds under the lock) when the second arrives.
    let_through = threading.Event()
    embed = fake_ollama.embed

    def embed_when_let_through(body):
        let_through.wait(timeout=300)
        return embed(body)

    monkeypatch.setattr(fake_ollama, "embed", embed_when_let_through)
    before = len(fake_ollama.requests)
    first = start(home, fake_ollama, "ingest", str(first_half), log=tmp_path / "first.log")
    second = None
    try:
        while first.poll() is None and "/api/embed" not in fake_ollama.paths()[before:]:
            time.sleep(0.01)
        second = start(home, fake_ollama, "ingest", str(second_half), log=tmp_path / "second.log")
        deadline = time.monotonic() + 300
        while second.poll() is None and "waiting" not in (tmp_path / "second.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        let_through.set()
        assert first.wait(timeout=600) == 0 and second.wait(timeout=600) == 0
    finally:
        let_through.set()
        stop(first)
        if second is not None:
            stop(second)

    waited = (tmp_path / "second.log").read_text()
    assert re.search(rf"Another rag ingest \(pid {first.pid}\) is writing this index; waiting…", waited)
    assert f"{ARTICLES // 2} added" in waited and f"{ARTICLES // 2} added" in (tmp_path / "first.log").read_text()
    check = rag(home, fake_ollama, "check")
    failures = [] if check.returncode == 0 and f"The index is whole: {ARTICLES} articles" in check.stdout else [check.stdout]
    record("two-ingests-at-once", 1, failures)
    assert failures == []


# --- each problem `rag check` can report is repaired as it says --------------------------


@pytest.fixture
def pipeline(tmp_path, fake_ollama):
    pipeline = make_pipeline(tmp_path / "home", embedder="ollama", backend="ollama", ollama_host=fake_ollama.host)
    pipeline.ingest([SEEDS], progress=False)
    return pipeline


def _reopen(pipeline, *, repair: bool) -> ChunkStore:
    return ChunkStore(pipeline.settings, pipeline.embedder.name, pipeline.embedder.dimension, repair=repair)


def test_a_whole_index_has_no_problems(pipeline):
    assert check_index(pipeline.store) == []


def test_an_article_missing_a_chunk_is_reported_and_ingesting_it_again_repairs_it(pipeline):
    store = pipeline.store
    article = next(a for a in store.articles() if a.chunks >= 3)
    [(first,)] = store.lexical._db.execute(
        "SELECT id FROM chunks WHERE article_id = ? AND number = 0", (article.article_id,)
    ).fetchall()
    store.collection.delete(ids=[first])  # lost from both halves alike: only the numbering shows it
    store.lexical.write([], [first], store.revision())

    n = article.chunks
    found = check_index(store)
    assert [p.what for p in found] == [
        f"in Chroma, article {article.article_id} has chunks 1-{n - 1} of the {n} it was cut into",
        f"in the lexical index, article {article.article_id}: {n - 1} chunks stored (numbered 1 to {n - 1}) of the {n} it was cut into",
    ]
    assert {p.repair for p in found} == {INGEST_AGAIN}
    report = pipeline.ingest([SEEDS], progress=False)
    assert report.repaired == [article.article_id] and len(report.unchanged) == 4
    assert check_index(store) == []


def test_chunks_without_sentence_vectors_are_reported_and_ingesting_again_stores_them(pipeline):
    store = pipeline.store
    article = store.articles()[0]
    store.lexical._db.execute(
        "DELETE FROM sentence_vectors WHERE chunk_rowid IN (SELECT rowid FROM chunks WHERE article_id = ?)", (article.article_id,)
    )
    assert [p.what for p in check_index(store)] == [
        f"in the lexical index, article {article.article_id}: {article.chunks} of its {article.chunks} chunks have no sentence vectors"
    ]
    assert pipeline.ingest([SEEDS], progress=False).repaired == [article.article_id]
    assert check_index(store) == []


def test_a_write_cut_short_is_reported_and_opening_the_index_undoes_it(pipeline, monkeypatch):
    removed = pipeline.articles()[4].article_id
    pipeline.remove_article(removed)

    def die(self, added, removed_ids, revision, rows=None):
        raise KeyboardInterrupt  # as if killed between the Chroma write and the SQLite commit

    monkeypatch.setattr(LexicalIndex, "write", die)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest([SEEDS], progress=False)
    monkeypatch.undo()

    found = check_index(_reopen(pipeline, repair=False))
    assert found and {p.repair for p in found} == {ON_OPEN}
    reopened = _reopen(pipeline, repair=True)
    assert check_index(reopened) == []
    assert removed not in {a.article_id for a in reopened.articles()}


def test_a_reader_leaves_a_write_under_way_alone_and_undoes_it_once_its_writer_is_gone(pipeline):
    store = pipeline.store
    began, finish = threading.Event(), threading.Event()

    def writer():
        with IndexLock(pipeline.settings.home).writing():
            store._begin([], [store.articles()[0].article_id])  # recorded and stamped, nothing committed yet
            began.set()
            finish.wait(timeout=60)  # then it dies without committing

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert began.wait(timeout=60)
        assert store.sync() is None, "a repair now would race the writer's own commit"
        assert store.lexical.pending is not None
    finally:
        finish.set()
        thread.join()
    assert store.sync() is not None
    assert store.lexical.pending is None and check_index(store) == []
