"""Several people on one `rag serve`: nine sessions ask at once, with follow-ups.

A real `rag serve` process answers eight gradio_client sessions and one headless Chromium
page. The model and the embedder are the FAKE Ollama of tests/fake_ollama.py, scripted
here so that every answer can only be the answer to one question:

- each session asks about its own city's articles (one article per city and facility,
  naming a manager and an opening year no other article has);
- every follow-up is the same words, "ومتى افتتح؟" ("and when was it opened?"), so only
  the session's own history can say which facility it is about: the fake rewrites it
  from the last question in the conversation it is sent, and records that conversation.

The checks: no session sees another's questions, names or years, every question gets its own
answer, answers start in the order the questions joined the queue (Gradio's queue is
first in, first out for the one "pipeline" slot), the server's memory stays flat over 100
questions, and Stop ends only its own session's answer. The page shows a question waiting
for its turn at once, and refuses a second one meanwhile.

"Flat": less than RSS_GROWTH_LIMIT_MB (20 MB, 250 kB a question) more resident memory at
question 100 than at question 20, and at most two more threads. What the server keeps, the
nine conversations in their sessions, is well under 2 MB; growth past the bound means
something is kept per question (runs measured 2-5 MB).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import httpx
import psutil
import pytest

from conftest import ROOT
from fake_ollama import FakeOllamaServer
from reliability import record

pytestmark = pytest.mark.heavy(covers=["ui/*.py", "rag/pipeline.py"])

CITIES = ["حلب", "حمص", "إربد", "صفاقس", "وهران", "طنجة", "أسوان", "الموصل", "نابلس"]
FIRST_NAMES = ["سامي", "رنا", "خالد", "ليلى", "عمر", "هدى", "يوسف", "سلمى", "كريم"]  # one per city
FACILITIES = ["ميناء", "مطار", "مستشفى", "ملعب", "مصنع", "متحف"]
FAMILY_NAMES = ["الخطيب", "العلي", "النجار", "الحداد", "الشامي", "الزعبي"]  # one per facility
CLIENT_SESSIONS = 8  # gradio_client sessions; the browser is one more
BROWSER_TOPICS = 2
FOLLOW_UP = "ومتى افتتح؟"
SLOW_SECONDS = 3.0  # how long the fake takes to answer the questions Stop is tried on
RSS_FROM_QUESTION = 20  # memory is compared from here (the first answers warm caches up) ...
RSS_TO_QUESTION = 100  # ... to here
RSS_GROWTH_LIMIT_MB = 20.0
SERVE_START_SECONDS = 90
ANSWER_TIMEOUT_S = 60


@dataclass(frozen=True)
class Topic:
    """One article: who runs a city's facility, and when it opened; no other article has that name or year."""

    city: int
    facility: int
    year: int

    @property
    def place(self) -> str:
        return f"{FACILITIES[self.facility]} {CITIES[self.city]}"

    @property
    def manager(self) -> str:
        return f"{FIRST_NAMES[self.city]} {FAMILY_NAMES[self.facility]}"

    @property
    def article(self) -> str:
        # One headline for all: a headline naming the place would take one of the two passages
        # an article gets (RAG_TOP_K=1), leaving out a fact.
        return f"أخبار المرافق العامة\n{self.fact}\n{self.follow_up_fact}\n"

    @property
    def question(self) -> str:
        return f"من يدير {self.place}؟"

    @property
    def fact(self) -> str:
        return f"يدير {self.place} المهندس {self.manager}."

    @property
    def standalone(self) -> str:
        """The follow-up as the rewrite makes it from this topic's question."""
        return f"متى افتتح {self.place}؟"

    @property
    def follow_up_fact(self) -> str:
        return f"افتتح {self.place} عام {self.year}."


TOPICS = [
    Topic(city, facility, year=1900 + len(FACILITIES) * city + facility)
    for city in range(len(CITIES))
    for facility in range(len(FACILITIES))
]


def topics_of(city: int) -> list[Topic]:
    return [t for t in TOPICS if t.city == city]


def foreign_words(html: str, city: int) -> list[str]:
    """The names and years of other cities' articles in `html`. A message's random id is left out:
    «#src-a1943b0e-2» holds no year («1943») of another article."""
    html = MESSAGE_ID.sub("src-", html)
    return [
        word
        for topic in TOPICS
        if topic.city != city
        for word in (topic.manager, str(topic.year))
        if re.search(rf"(?<!\d){word}(?!\d)", html)
    ]


MESSAGE_ID = re.compile(r"src-[0-9a-f]{8}-")  # ui.render's anchors: src-<message id>-<passage number>


class ScriptedOllama(FakeOllamaServer):
    """The FAKE Ollama, answering each known question with its topic's sentence.

    A follow-up is rewritten from the last known question in the conversation it is sent;
    every conversation sent for a rewrite is kept in `rewrites` as (conversation, topic),
    and the question of every answer call in `answered`, in the order the calls came."""

    def __init__(self):
        super().__init__()
        self.rewrites: list[tuple[str, Topic | None]] = []
        self.answered: list[str | None] = []
        self.slow: set[str] = set()  # questions answered SLOW_SECONDS late
        self.holding = 0  # slow replies not sent yet
        self._lock = threading.Lock()
        self._questions = {text: topic for topic in TOPICS for text in (topic.question, topic.standalone)}

    def chat(self, body):
        prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []))
        if not is_rewrite(body.get("format")):
            asked = self.asked_in(prompt)
            self.answered.append(asked)
            if asked in self.slow:
                with self._lock:
                    self.holding += 1
                time.sleep(SLOW_SECONDS)
                with self._lock:
                    self.holding -= 1
        return super().chat(body)

    def asked_in(self, prompt: str) -> str | None:
        return max((text for text in self._questions if text in prompt), key=len, default=None)

    def _default_reply(self, messages, schema) -> str:
        prompt = "\n".join(m.content or "" for m in messages)
        if is_rewrite(schema):
            # The question asked last comes last; a follow-up is about the topic asked before it.
            mentioned = sorted(((prompt.rfind(t.question), t) for t in TOPICS if t.question in prompt), key=lambda m: m[0])
            topic = mentioned[-1][1] if mentioned else None
            self.rewrites.append((prompt, topic))
            if topic is None:
                return json.dumps({"question": FOLLOW_UP}, ensure_ascii=False)
            follow_up = prompt.rfind(FOLLOW_UP) > mentioned[-1][0]
            return json.dumps({"question": topic.standalone if follow_up else topic.question}, ensure_ascii=False)
        asked = self.asked_in(prompt)
        if asked is None:
            return json.dumps({"found": False, "sentences": [{"text": "لا أعرف الجواب.", "passages": [1]}]})
        topic = self._questions[asked]
        fact = topic.fact if asked == topic.question else topic.follow_up_fact
        numbers = schema["properties"]["sentences"]["items"]["properties"]["passages"]["items"]["enum"]
        # Every passage is cited: the one holding the sentence makes it supported, whichever number it has.
        return json.dumps({"found": True, "sentences": [{"text": fact, "passages": numbers[:3]}]}, ensure_ascii=False)


def is_rewrite(schema) -> bool:
    return isinstance(schema, dict) and "question" in schema.get("properties", {})


# --- the server ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_rss_mb(process: psutil.Process) -> float:
    """Resident memory of `rag serve` and every process it started."""
    everyone = [process, *process.children(recursive=True)]
    return sum(p.memory_info().rss for p in everyone) / 1024 / 1024


@pytest.fixture(scope="module")
def fake():
    with ScriptedOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def served(tmp_path_factory, fake):
    """`rag serve` over one article per topic; yields (url, its psutil.Process)."""
    folder = tmp_path_factory.mktemp("concurrent")
    articles = folder / "articles"
    articles.mkdir()
    for n, topic in enumerate(TOPICS):
        (articles / f"topic_{n:02d}.txt").write_text(topic.article, encoding="utf-8")
    env = {
        **os.environ,
        "RAG_HOME": str(folder / "home"),
        "RAG_BACKEND": "ollama",
        "RAG_EMBEDDER": "ollama",
        "RAG_OLLAMA_HOST": fake.host,
        "RAG_TOP_K": "1",  # one article per answer: the fake's sentence is in its passages
        "RAG_MAX_ANSWERS_PER_MINUTE": "1000",  # the fake answers faster than anyone types
    }
    env.pop("RAG_CONFIG", None)
    rag = [sys.executable, "-m", "rag.cli"]
    subprocess.run([*rag, "ingest", str(articles)], env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)

    port = free_port()
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen([*rag, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVE_START_SECONDS
        while True:
            assert server.poll() is None, f"rag serve exited: {(folder / 'serve.log').read_text()[-2000:]}"
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "rag serve did not start"
            time.sleep(0.3)
        yield url, psutil.Process(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# --- the sessions -------------------------------------------------------


def html_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


@dataclass
class Asked:
    """One question a session asked and the chat it got back."""

    session: str
    city: int
    question: str
    expected_words: str  # what only its answer says: the topic's manager or opening year
    chat: list[dict]
    asked_before: list[str]  # the session's earlier questions, which its chat must show first


def problems(asked: Asked, stopped: bool = False) -> list[str]:
    """What is wrong with the chat a session got back: another session's words, a missing answer."""
    found = []
    questions = [html_of(m) for m in asked.chat if m["role"] == "user"]
    answers = [html_of(m) for m in asked.chat if m["role"] == "assistant"]
    expected_questions = [*asked.asked_before, asked.question]
    if len(questions) != len(expected_questions) or any(q not in html for q, html in zip(expected_questions, questions)):
        found.append(f"the chat shows other questions than the session's own: {questions}")
    foreign = sorted({word for html in answers for word in foreign_words(html, asked.city)})
    if foreign:
        found.append(f"names or years of other sessions' articles: {foreign}")
    last = answers[-1] if answers else ""
    if stopped:
        if 'class="msg answer stopped"' not in last:
            found.append("Stop did not stop the answer")
    elif 'class="msg answer"' not in last or asked.expected_words not in last:
        found.append(f"not the answer to its question (wanted {asked.expected_words}): {last[:300]}")
    return [f"{asked.session} asking {asked.question!r}: {problem}" for problem in found]


class Session:
    """One gradio_client session (its own session hash, its own history) asking its city's topics."""

    def __init__(self, url: str, city: int):
        from gradio_client import Client

        self.client = Client(url, verbose=False)
        self.name = f"session {city}"
        self.city = city
        self.asked: list[str] = []

    def submit(self, question: str):
        return self.client.submit(question, api_name="/ask")

    def outcome(self, job, question: str, expected_words: str) -> Asked:
        _, chat = job.result(timeout=ANSWER_TIMEOUT_S)
        asked = Asked(self.name, self.city, question, expected_words, chat, list(self.asked))
        self.asked.append(question)
        return asked

    def ask(self, question: str, expected_words: str) -> Asked:
        return self.outcome(self.submit(question), question, expected_words)

    def stop(self) -> None:
        self.client.predict(api_name="/stop")


def conversation(session: Session, topics: list[Topic], on_answer) -> None:
    """Ask each topic's question, then the follow-up, one after another."""
    for topic in topics:
        on_answer(session.ask(topic.question, topic.manager))
        on_answer(session.ask(FOLLOW_UP, str(topic.year)))


def in_queue(job) -> None:
    """Wait until the server has put the job in its queue (it has sent the job's rank)."""
    from gradio_client.utils import Status

    deadline = time.monotonic() + 10
    while Status.ordering(job.status().code) < Status.ordering(Status.IN_QUEUE):
        assert time.monotonic() < deadline, "the question did not reach the queue"
        time.sleep(0.02)


def until(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


# --- the browser session ------------------------------------------------

ANSWERS_DONE = "(n) => document.querySelectorAll('#chat .msg.answer:not(.draft), #chat .msg.error').length >= n"
BOX = "#question textarea"


@pytest.fixture(scope="module")
def page(served):
    """The chat page in headless Chromium, a session like any other."""
    from ui.browser import CHROMIUM, VIEWPORT, chromium, open_chat

    if not CHROMIUM.exists():
        pytest.skip(f"the browser session needs Debian's Chromium at {CHROMIUM} (`make browser` installs it)")
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        open_chat(page, served[0])
        yield page


class BrowserSession:
    """The page, asked through its question box as a person asks."""

    def __init__(self, page, city: int):
        self.page = page
        self.city = city
        self.asked: list[str] = []

    def enter(self, question: str) -> None:
        self.page.fill(BOX, question)
        self.page.press(BOX, "Enter")

    def answered(self, question: str, expected_words: str) -> Asked:
        """Wait for the answer to `question`, entered last, and read the chat."""
        self.page.wait_for_function(ANSWERS_DONE, arg=len(self.asked) + 1, timeout=ANSWER_TIMEOUT_S * 1000)
        chat = [
            {"role": "user" if "question" in classes else "assistant", "content": html}
            for classes, html in self.page.eval_on_selector_all("#chat .msg", "all => all.map(m => [m.className, m.outerHTML])")
        ]
        asked = Asked("browser", self.city, question, expected_words, chat, list(self.asked))
        self.asked.append(question)
        return asked

    def conversation(self, topics: list[Topic], on_answer) -> None:
        for topic in topics:
            for question, expected_words in ((topic.question, topic.manager), (FOLLOW_UP, str(topic.year))):
                self.enter(question)
                on_answer(self.answered(question, expected_words))


# --- the test -----------------------------------------------------------


def test_nine_sessions_at_once_keep_to_their_own_conversation_in_queue_order_and_stop_alone(served, page, fake):
    url, server = served
    sessions = [Session(url, city) for city in range(CLIENT_SESSIONS)]
    browser = BrowserSession(page, city=CLIENT_SESSIONS)
    results: list[Asked] = []
    memory: dict[str, float] = {}
    threads_at: dict[str, int] = {}
    lock = threading.Lock()

    def on_answer(asked: Asked) -> None:
        with lock:
            results.append(asked)
            if len(results) == RSS_FROM_QUESTION:
                memory["start"], threads_at["start"] = server_rss_mb(server), server.num_threads()

    # 1. Everyone at once: each gradio_client session in a thread of its own, the browser here.
    errors: list[str] = []

    def run(session: Session) -> None:
        try:
            conversation(session, topics_of(session.city), on_answer)
        except Exception as exc:  # reported as a lost answer, not a crash of this thread
            errors.append(f"{session.name}: {type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=run, args=(s,), name=s.name) for s in sessions]
    for worker in workers:
        worker.start()
    browser.conversation(topics_of(browser.city)[:BROWSER_TOPICS], on_answer)
    for worker in workers:
        worker.join()
    memory["end"], threads_at["end"] = server_rss_mb(server), server.num_threads()
    everyone_at_once = len(results)
    failures = errors + [problem for asked in results for problem in problems(asked)]

    # What each rewrite was sent: the conversation of one session only.
    rewrites = list(fake.rewrites)
    sessions_questions = {city: {t.question for t in topics_of(city)} for city in range(len(CITIES))}
    for prompt, topic in rewrites:
        cities = {city for city, questions in sessions_questions.items() if any(q in prompt for q in questions)}
        if topic is None or cities != {topic.city}:
            failures.append(f"a rewrite was sent the history of sessions {sorted(cities)}: {prompt[:300]}")
    with_history = everyone_at_once - (CLIENT_SESSIONS + 1)  # each session's first question has none
    if len(rewrites) != with_history:
        failures.append(f"{len(rewrites)} rewrites for {with_history} questions asked after others")

    # 2. The queue's order, and Stop. Session 0's question is slow; while it is answered the
    # browser and the other sessions join the queue one after another, and session 1 presses
    # Stop (its own question is only waiting). Session 2's question is slow too, and session 2
    # stops it.
    first, second = TOPICS[0], topics_of(2)[-1]
    fake.slow |= {first.question, second.question}
    answered_before = len(fake.answered)
    turns = [(sessions[0], first)] + [(s, topics_of(s.city)[-1] if s.city != 2 else second) for s in sessions[1:]]
    jobs = [sessions[0].submit(first.question)]
    until(lambda: first.question in fake.answered[answered_before:], "session 0's answer to start")

    # The page shows a question waiting for its turn at once, and takes no second one meanwhile.
    browser_topic = topics_of(browser.city)[BROWSER_TOPICS]
    browser.enter(browser_topic.question)
    page.wait_for_selector("#chat .msg.answer.waiting", timeout=5000)
    if "يجيب النموذج عن سؤال واحد في كل مرة" not in page.inner_text("#chat .msg.answer.waiting"):
        failures.append("the page does not say the question waits for its turn")
    browser.enter(TOPICS[-1].question)
    page.wait_for_function("() => document.body.innerText.includes('still waiting or being answered')", timeout=5000)
    if page.input_value(BOX) != TOPICS[-1].question:
        failures.append("the question entered while another waits was not kept in the box")

    for session, topic in turns[1:]:
        jobs.append(session.submit(topic.question))
        in_queue(jobs[-1])
    sessions[1].stop()
    in_order = []
    for (session, topic), job in zip(turns, jobs):
        if session is sessions[2]:
            until(lambda: second.question in fake.answered[answered_before:], "session 2's answer to start")
            sessions[2].stop()
        asked = session.outcome(job, topic.question, topic.manager)
        failures += problems(asked, stopped=session is sessions[2])
        in_order.append(topic.question)
    failures += problems(browser.answered(browser_topic.question, browser_topic.manager))
    started = [q for q in fake.answered[answered_before:] if q in in_order]
    if started != in_order:
        failures.append(f"answers started in another order than the questions joined the queue: {started}")
    until(lambda: fake.holding == 0, "the fake to send the stopped answer's reply")

    cases = len(results) + len(jobs) + 1
    record(
        "concurrent-sessions",
        cases=cases,
        failures=failures,
        sessions=CLIENT_SESSIONS + 1,
        questions_at_once=everyone_at_once,
        rewrites_at_once=len(rewrites),
        rss_mb_start=round(memory["start"], 1),
        rss_mb_end=round(memory["end"], 1),
        rss_growth_limit_mb=RSS_GROWTH_LIMIT_MB,
        threads_start=threads_at["start"],
        threads_end=threads_at["end"],
    )
    assert failures == []
    assert everyone_at_once >= RSS_TO_QUESTION and cases >= CLIENT_SESSIONS * 10
    assert memory["end"] - memory["start"] < RSS_GROWTH_LIMIT_MB, memory
    assert threads_at["end"] <= threads_at["start"] + 2, "every answer's worker thread ends"
