"""The limits of one `rag serve`: upload size, question length, articles per upload and answers
per minute per session. Each is a setting (`rag config` shows it), and each one hit is a
message that says what to do next.

The app runs in this process over a small index; the model and the embedder are the FAKE
Ollama of tests/fake_ollama.py, so an answer takes a fraction of a second.
"""
import httpx
import pytest

from rag import cli
from rag.errors import ConfigError
from rag.settings import load_settings
from ui import chat
from ui.app import build_app, launch

from conftest import make_pipeline

LIMITS = {  # setting: (its environment variable, a value other than the default)
    "max_upload_mib": ("RAG_MAX_UPLOAD_MIB", "2"),
    "max_question_chars": ("RAG_MAX_QUESTION_CHARS", "300"),
    "max_articles_per_upload": ("RAG_MAX_ARTICLES_PER_UPLOAD", "4"),
    "max_answers_per_minute": ("RAG_MAX_ANSWERS_PER_MINUTE", "5"),
}
ARTICLE = "ميناء الزرقاء\nأفرغت الناقلة بلو هيرون 42 ألف برميل من الديزل في ميناء الزرقاء يوم الاثنين.\n"
QUESTION = "كم برميلاً أفرغت الناقلة بلو هيرون؟"
MAX_QUESTION_CHARS = 120
ANSWERS_PER_MINUTE = 3
ARTICLES_PER_UPLOAD = 2
UPLOAD_MIB = 1


# --- the settings -------------------------------------------------------


def test_every_limit_is_a_setting_that_rag_config_shows_with_its_source(monkeypatch, capsys):
    for env, value in LIMITS.values():
        monkeypatch.setenv(env, value)
    assert cli.main(["config"]) == 0
    shown = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    for name, (env, value) in LIMITS.items():
        assert shown[name].split()[1] == value and f"(env {env})" in shown[name]


@pytest.mark.parametrize("name", LIMITS)
def test_a_limit_below_one_is_refused_with_the_setting_named(name):
    with pytest.raises(ConfigError, match=f"{name} must be at least 1"):
        load_settings({name: 0})


# --- answers per minute, on a clock the test moves ----------------------


def test_a_session_gets_its_answers_per_minute_then_waits_until_its_oldest_answer_is_a_minute_old():
    now = [1000.0]
    rate = chat.AnswerRate(clock=lambda: now[0])
    for second in (0, 10, 20):
        now[0] = 1000.0 + second
        assert rate.admit("alice", per_minute=3) == 0.0
    now[0] = 1030.0
    assert rate.admit("alice", per_minute=3) == pytest.approx(30.0), "the answer at 1000 s counts until 1060 s"
    assert rate.admit("bob", per_minute=3) == 0.0, "another session has its own count"
    now[0] = 1060.0
    assert rate.admit("alice", per_minute=3) == 0.0
    assert rate.admit("alice", per_minute=3) == pytest.approx(10.0), "refused questions are not counted"


def test_sessions_that_went_quiet_are_forgotten():
    now = [0.0]
    rate = chat.AnswerRate(clock=lambda: now[0])
    for n in range(100):
        rate.admit(f"session-{n}", per_minute=3)
    now[0] = 61.0
    rate.admit("last", per_minute=3)
    assert list(rate._started) == ["last"]


# --- the app over its API (gradio_client), with the fake Ollama ---------


@pytest.fixture(scope="module")
def limited(tmp_path_factory, fake_ollama):
    """An app with small limits over one article; yields (url, pipeline)."""
    folder = tmp_path_factory.mktemp("limits")
    (folder / "harbour.txt").write_text(ARTICLE, encoding="utf-8")
    pipeline = make_pipeline(
        folder / "home",
        backend="ollama", embedder="ollama", ollama_host=fake_ollama.host,
        max_question_chars=MAX_QUESTION_CHARS, max_answers_per_minute=ANSWERS_PER_MINUTE,
        max_articles_per_upload=ARTICLES_PER_UPLOAD, max_upload_mib=UPLOAD_MIB,
    )
    pipeline.ingest([folder / "harbour.txt"], progress=False)
    demo = build_app(pipeline)
    _, url, _ = launch(demo, port=None, prevent_thread_lock=True, quiet=True, max_upload_mib=UPLOAD_MIB)
    yield url, pipeline
    demo.close()


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


def last_message(messages) -> str:
    content = messages[-1]["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def ask(session, question: str) -> tuple[str, list[dict]]:
    """(what the question box holds once the question is answered or refused, the chat by then)."""
    job = session.submit(question, api_name="/ask")
    job.result()
    boxes = [box for box, _ in job.outputs() if isinstance(box, str)]  # a box left as it is: {"__type__": "update"}
    return boxes[-1], job.outputs()[-1][1]


def chat_requests(fake) -> int:
    return sum(path == "/api/chat" for path in fake.paths())


def test_a_question_over_the_length_limit_is_not_asked_and_goes_back_in_the_box(limited, fake_ollama):
    url, _ = limited
    session = client(url)
    too_long = "س" * (MAX_QUESTION_CHARS + 2)
    asked_before = chat_requests(fake_ollama)

    box, messages = ask(session, too_long)
    assert box == too_long, "the question is back in the box, to shorten"
    refusal = last_message(messages)
    assert 'class="msg error"' in refusal
    assert "122 characters" in refusal and "up to 120 characters (max_question_chars)" in refusal
    assert "Shorten it and press Enter again." in refusal
    assert chat_requests(fake_ollama) == asked_before, "the model was not asked"

    box, messages = ask(session, QUESTION)
    assert box == "" and len(messages) == 2, "the next question replaces the refusal in the chat"
    assert 'class="msg error"' not in last_message(messages)


def test_a_session_over_its_answers_per_minute_is_told_when_it_can_ask_again_and_others_are_not(limited):
    url, _ = limited
    busy, other = client(url), client(url)
    for _ in range(ANSWERS_PER_MINUTE):
        box, messages = ask(busy, QUESTION)
        assert box == "" and "max_answers_per_minute" not in last_message(messages)

    box, messages = ask(busy, QUESTION)
    assert box == QUESTION, "the refused question is back in the box"
    refusal = last_message(messages)
    assert f"{ANSWERS_PER_MINUTE} answers in the last minute" in refusal and "(max_answers_per_minute)" in refusal
    wait = int(refusal.split("You can ask again in ")[1].split(" s;")[0])
    assert 0 < wait <= 60
    assert "your question is back in the box" in refusal

    box, messages = ask(other, QUESTION)
    assert box == "" and "max_answers_per_minute" not in last_message(messages), "another session is answered"


def test_more_articles_than_one_upload_takes_are_refused_and_nothing_is_added(limited, tmp_path):
    from gradio_client import handle_file

    url, pipeline = limited
    before = pipeline.articles()
    files = []
    for n in range(ARTICLES_PER_UPLOAD + 1):
        (tmp_path / f"extra_{n}.txt").write_text(f"خبر {n}\nنص الخبر رقم {n}.\n", encoding="utf-8")
        files.append(handle_file(str(tmp_path / f"extra_{n}.txt")))

    message = client(url).predict(files, api_name="/add_articles")
    assert message.startswith("Refused: 3 files chosen; this server adds up to 2 at a time (max_articles_per_upload).")
    assert "smaller batches" in message
    assert pipeline.articles() == before

    message = client(url).predict(files[:ARTICLES_PER_UPLOAD], api_name="/add_articles")
    assert "2 added" in message
    pipeline.remove_article("extra_0")
    pipeline.remove_article("extra_1")


def test_a_file_over_the_upload_size_is_refused_before_it_is_stored(limited, tmp_path):
    url, _ = limited
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (UPLOAD_MIB * 1024 * 1024 + 1))
    with big.open("rb") as body:
        response = httpx.post(f"{url.rstrip('/')}/gradio_api/upload", files={"files": body})
    assert response.status_code == 413
    assert f"maximum allowed size of {UPLOAD_MIB * 1024 * 1024} bytes" in response.text


def test_the_page_names_a_file_over_the_upload_size_and_does_not_send_it(limited, tmp_path):
    from ui.browser import CHROMIUM, VIEWPORT, chromium, open_chat

    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (`make browser` installs it)")
    url, _ = limited
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (UPLOAD_MIB * 1024 * 1024 + 1))
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        uploads = []  # files sent to the server
        page.on("request", lambda request: uploads.append(request.url) if request.method == "POST" and "/upload" in request.url else None)
        open_chat(page, url)
        page.get_by_role("tab", name="Articles").click()
        page.set_input_files("#uploads input[type=file]", str(big))
        page.wait_for_function(
            "() => document.body.innerText.includes('File(s) exceed the maximum allowed size of 1.0 Mb: \"big.txt\"')"
        )
    assert uploads == []
