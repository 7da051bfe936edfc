"""The chat UI without a browser: the HTML rendering (pure functions) and the app driven by gradio_client."""
import itertools
import re
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

from rag.errors import StoreError
from rag.pipeline import AnswerUpdate
from rag.types import Answer, Citation, Passage, Sentence
from ui import chat
from ui.app import QUEUE_POLL_SECONDS, build_app
from ui.controls import SharedPipeline, status_html
from rag.answer_log import AnswerLog
from ui.render import answer_html, draft_html, error_html, question_html

from conftest import make_pipeline

QUESTION_4000 = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'


def passage(number, text, headline="كوريا الشمالية تؤكد نشر قواتها", article_id="003_0b40211500770580"):
    return Passage(number, article_id, headline, text, 100 * number, 100 * number + len(text), f"chunk-{number}")


def arabic_answer(**overrides) -> Answer:
    fields = dict(
        question=QUESTION_4000,
        language="ar",
        text="قُتل أو أصيب نحو 4000 جندي. [1] وأرسلت 5000 آخرين. [2]",
        sentences=[
            Sentence("قُتل أو أصيب نحو 4000 جندي.", [Citation(1, True, "overlap 1.00 >= 0.5")]),
            Sentence("وأرسلت 5000 آخرين.", [Citation(2, False, "number 5000 not in passage")]),
        ],
        passages=[passage(1, "قُتل أو أصيب حوالي 4,000 من الجنود."), passage(2, "أرسلت 3,000 جندي إضافي.")],
        model="qwen (embedded)",
        timings={"first_token_s": 3.2, "total_s": 18.4},
    )
    return Answer(**{**fields, **overrides})


# --- rendering ----------------------------------------------------------


def test_a_supported_citation_is_a_badge_linking_to_its_source():
    html = answer_html(arabic_answer(), "m1")
    assert '<a class="cite supported" href="#src-m1-1"' in html
    assert '<li id="src-m1-1" class="source supported">' in html
    assert "✓" in html and "<details class=\"sources\">" in html
    assert "<mark>قُتل أو أصيب حوالي 4,000 من الجنود.</mark>" in html
    assert "003_0b40211500770580" in html and "100–" in html


def test_a_sentence_without_support_is_marked_with_a_warning_and_a_tooltip():
    answer = arabic_answer()
    answer.sentences.append(Sentence("جملة بلا استشهاد."))
    html = answer_html(answer, "m1")
    marked = re.findall(r'<span class="sentence unsupported[^"]*" dir="auto" title="[^"]+"><span class="mark"', html)
    assert len(marked) == 2 and html.count("⚠") == 2
    assert 'class="sentence unsupported uncited"' in html
    assert '<a class="cite unsupported" href="#src-m1-2"' in html
    assert '<li id="src-m1-2" class="source unsupported">' in html and "✗" in html


def test_an_answer_cut_short_by_the_token_limit_says_so_under_it():
    cut = answer_html(arabic_answer(usage={"finish_reason": "length"}), "m1")
    assert '<span class="cut-short">بلغت الإجابة حدّها الأقصى (max_answer_tokens)' in cut
    whole = answer_html(arabic_answer(usage={"finish_reason": "stop"}), "m1")
    assert "cut-short" not in whole


def test_article_text_and_model_output_are_escaped():
    answer = arabic_answer(
        sentences=[Sentence(f"قال {SCRIPT} شيئًا", [Citation(1, True, "ok")])],
        passages=[passage(1, f"نص {IMG} {SCRIPT}", headline=f"عنوان {IMG}")],
    )
    html = answer_html(answer, "m1", {1: (f"قبل {SCRIPT}", f"بعد {IMG}")})
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in html
    reading = draft_html("", "ar", [passage(1, f"نص {SCRIPT}", headline=f"عنوان {IMG}")])
    for text in (draft_html(f"{SCRIPT} [1]", "ar"), reading, question_html(IMG), error_html(SCRIPT)):
        assert "<script" not in text and "<img" not in text


def test_each_message_carries_its_own_direction():
    assert answer_html(arabic_answer(), "m1").startswith('<div class="msg answer" dir="rtl" lang="ar">')
    english = arabic_answer(
        question="How many were killed?", language="en", sentences=[Sentence("About 4,000.", [Citation(1, True)])]
    )
    assert answer_html(english, "m2").startswith('<div class="msg answer" dir="ltr" lang="en">')
    assert 'dir="rtl"' in question_html(QUESTION_4000)
    assert 'dir="ltr"' in question_html("How many North Korean soldiers were killed?")
    assert 'dir="rtl"' in answer_html(english, "m2"), "an Arabic passage keeps its own direction in an English answer"


def test_an_abstention_is_shown_as_a_neutral_note_not_an_error():
    answer = arabic_answer(text="لا تذكر المقالات المتاحة إجابة عن هذا السؤال.", sentences=[], abstained=True)
    html = answer_html(answer, "m1")
    assert 'class="msg answer abstained"' in html
    assert "لا تذكر المقالات المتاحة" in html
    assert "error" not in html and '<a class="cite' not in html and "✗" not in html
    assert "المقاطع التي بُحث فيها (2)" in html, "the passages searched are folded under the note"


def test_a_draft_shows_citation_markers_as_inert_badges():
    html = draft_html("قُتل نحو 4000 جندي. [1] وأرسلت", "ar")
    assert '<sup class="cite pending">1</sup>' in html and "href" not in html
    assert 'class="msg answer draft" dir="rtl"' in html


def test_a_draft_lists_the_passages_being_read_by_article_with_their_text_on_hover():
    passages = [
        passage(1, "قُتل أو أصيب حوالي 4,000 من الجنود."),
        passage(2, "أرسلت 3,000 جندي إضافي.", headline="روسيا تشكر القوات", article_id="004_823c1a8cc44a7092"),
        passage(3, "وصل الجنود في الخريف."),
    ]
    html = draft_html("", "ar", passages)
    assert 'class="msg answer draft" dir="rtl"' in html and "يقرأ المقاطع (3)" in html
    first, second = re.findall(r"<li .*?</li>", html, re.DOTALL)
    assert '<sup class="cite pending">1</sup><sup class="cite pending">3</sup> ' in first
    assert "كوريا الشمالية تؤكد نشر قواتها" in first and "[1] قُتل أو أصيب" in first and "[3] وصل الجنود" in first
    assert '<sup class="cite pending">2</sup> ' in second and "روسيا تشكر القوات" in second
    assert "Reading the passages (3)" in draft_html("", "en", passages)
    assert 'class="reading"' not in draft_html("قُتل", "ar"), "no passages, no list"


def test_the_source_shows_the_passage_within_its_chunk_context():
    html = answer_html(arabic_answer(), "m1", {1: ("كلام " * 100, " تتمة")})
    shown = re.search(r'<blockquote class="passage"[^>]*>(.*?)</blockquote>', html).group(1)
    assert shown.startswith("…كلام") and shown.endswith("</mark> تتمة")
    assert len(shown) < 260


def test_an_empty_index_is_a_readable_message_in_the_chat(rag_home):
    pipeline = make_pipeline(rag_home)
    *_, (messages, turns) = (u for u in chat.respond(pipeline, QUESTION_4000, [], threading.Event()) if u)
    assert len(messages) == 2
    assert 'class="msg error"' in messages[1]["content"]
    assert "The index is empty" in messages[1]["content"] and "Traceback" not in messages[1]["content"]
    assert chat.history(turns) == []


def test_model_settings_swap_the_chat_model_and_a_stopped_ollama_is_a_readable_message(rag_home, tmp_path):
    article = tmp_path / "harbour.txt"
    article.write_text("ميناء الزرقاء\nأفرغت الناقلة بلو هيرون 42 ألف برميل من الديزل.\n", encoding="utf-8")
    pipeline = make_pipeline(rag_home, ollama_host="http://127.0.0.1:9")
    pipeline.ingest([article], progress=False)
    shared = SharedPipeline(pipeline)

    shared.reconfigure("embedded", "", top_k=3, temperature=0.0)
    assert shared.pipeline is pipeline and pipeline.settings.top_k == 3, "top-k alone keeps the model"
    message = shared.reconfigure("ollama", "qwen2.5:7b-instruct", top_k=3, temperature=0.2)
    assert "ollama/qwen2.5:7b-instruct" in message
    assert shared.pipeline.embedder is pipeline.embedder and shared.pipeline.settings.temperature == 0.2
    assert "not reachable" in status_html(shared.pipeline)

    question = "كم برميلاً أفرغت الناقلة؟"
    *_, (messages, _) = (u for u in chat.respond(shared.pipeline, question, [], threading.Event()) if u)
    assert 'class="msg error"' in messages[1]["content"]
    assert "Ollama is not running at http://127.0.0.1:9" in messages[1]["content"]


def test_a_stopped_answer_is_let_go_while_the_model_is_busy_and_ends_at_its_next_step():
    steps, finished = [], threading.Event()

    def slow_answer():
        try:
            for n in range(5):
                time.sleep(0.3)
                steps.append(n)
                yield AnswerUpdate(f"step {n}")
        finally:
            finished.set()

    stream = chat.in_background(slow_answer())
    assert next(stream) is None, "nothing yet: the caller gets control back to be stopped"
    stream.close()
    assert finished.wait(2) and len(steps) < 5


class SlowPipeline:
    """Stands in for a pipeline whose model writes one word every 0.2 s."""

    def ask_stream(self, question, history):
        text = ""
        for word in "قُتل أو أصيب نحو 4000 جندي".split():
            time.sleep(0.2)
            text = f"{text} {word}".strip()
            yield AnswerUpdate(text)


def test_stop_ends_the_answer_as_stopped_and_keeps_it_out_of_the_history():
    stop = threading.Event()
    shown = []
    for update in chat.respond(SlowPipeline(), QUESTION_4000, [], stop):
        if update:
            shown.append(update[0][-1]["content"])
            if len(shown) == 3:
                stop.set()
    messages, turns = update
    assert 'class="msg answer stopped"' in messages[-1]["content"] and "(توقف)" in messages[-1]["content"]
    assert "قُتل أو" in messages[-1]["content"] and "جندي" not in messages[-1]["content"]
    assert len(turns) == 1 and chat.history(turns) == []


class ScriptedPipeline:
    """Stands in for a pipeline: the passages it reads, the words as the model writes them, the answer."""

    store = SimpleNamespace(chunks=lambda ids: [])  # no chunk context around the passages

    def __init__(self, answer):
        self.answer = answer

    def ask_stream(self, question, history):
        yield AnswerUpdate("", passages=self.answer.passages)
        words = self.answer.text.split()
        for n in range(1, len(words) + 1):
            yield AnswerUpdate(" ".join(words[:n]))
        yield AnswerUpdate(self.answer.text, self.answer)


def test_a_checked_answer_is_kept_and_the_turn_knows_its_log_row():
    kept = []

    def keep(answer):
        kept.append(answer)
        return 41

    *_, (messages, turns) = (u for u in chat.respond(ScriptedPipeline(arabic_answer()), QUESTION_4000, [],
                                                     threading.Event(), keep=keep) if u)
    assert kept == [arabic_answer()] and turns[-1].log_id == 41


def test_a_stopped_answer_is_never_kept():
    stop, kept = threading.Event(), []
    for update in chat.respond(SlowPipeline(), QUESTION_4000, [], stop, keep=kept.append):
        if update and "قُتل" in update[0][-1]["content"]:
            stop.set()
    assert kept == []


def shown_answers(pipeline, clock):
    """The answer message of every chat state `respond` sends."""
    return [state[0][-1]["content"] for state in chat.respond(pipeline, QUESTION_4000, [], threading.Event(), clock) if state]


def test_the_passages_being_read_are_streamed_first_and_later_words_wait_their_turn():
    answer = arabic_answer()
    asked, reading, first_words, answered = shown_answers(ScriptedPipeline(answer), clock=lambda: 0.0)
    assert 'class="reading"' not in asked
    assert 'class="reading"' in reading and "كوريا الشمالية تؤكد نشر قواتها" in reading
    assert re.search(r"<p><span class=\"cursor\">", reading), "no words yet"
    assert "<p>قُتل<span" in first_words and 'class="reading"' in first_words, "the first word at once, under it the passages"
    assert 'class="reading"' not in answered and '<details class="sources">' in answered


def test_words_written_slower_than_the_draft_interval_are_each_shown():
    answer = arabic_answer()
    ticks = itertools.count(step=chat.DRAFT_SECONDS)
    shown = shown_answers(ScriptedPipeline(answer), clock=lambda: next(ticks))
    assert len(shown) == 3 + len(answer.text.split()), "the question, the passages, every draft, the answer"


def test_the_chat_shows_its_own_progress_and_gradio_s_queue_does_not_poll_every_millisecond(rag_home):
    demo = build_app(make_pipeline(rag_home))
    progress = {d["api_name"]: d["show_progress"] for d in demo.config["dependencies"] if d.get("api_name")}
    assert progress["ask"] == "hidden" and progress["clear"] == "hidden"
    assert demo._queue.sleep_when_free == QUEUE_POLL_SECONDS >= 0.05


def test_an_error_in_the_worker_reaches_the_chat():
    def failing():
        raise StoreError("The index is empty.")
        yield

    with pytest.raises(StoreError):
        list(chat.in_background(failing()))


# --- the app over its API (gradio_client) -------------------------------


@pytest.fixture(scope="module")
def app_url(seeded_pipeline):
    from ui.app import build_app, launch

    demo = build_app(seeded_pipeline)
    _, url, _ = launch(demo, port=None, prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


def html_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def test_the_chat_api_answers_an_arabic_question_with_a_supported_citation(app_url, seeded_pipeline):
    from gradio_client import Client

    job = Client(app_url, verbose=False).submit(QUESTION_4000, api_name="/ask")
    _, messages = job.result()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    html = html_of(messages[1])
    assert 'dir="rtl"' in html
    assert re.search(r'<a class="cite supported" href="#src-\w+-\d+"', html), html
    assert re.search(r'<li id="src-\w+-\d+" class="source (supported|mixed)">', html)
    assert "✓" in html and re.search(r"4[,٬]?000|4 آلاف", html), "the answer gives the figure of 4,000"
    logged = AnswerLog(seeded_pipeline.settings).recent(limit=50)
    assert any(entry.answer.question == QUESTION_4000 and entry.source == "api" for entry in logged)

    drafts = [html_of(m[1]) for _, m in job.outputs() if isinstance(m, list) and len(m) == 2 and "draft" in html_of(m[1])]
    reading = next(i for i, draft in enumerate(drafts) if 'class="reading"' in draft)
    worded = next(i for i, draft in enumerate(drafts) if re.search(r"<p>[^<]", draft))
    assert reading < worded, "the passages being read are shown before the first words"


def test_bad_uploads_are_refused_and_the_index_stays_intact(app_url, seeded_pipeline, tmp_path):
    from gradio_client import Client, handle_file

    before = seeded_pipeline.articles()
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "huge.txt").write_text("عنوان\n" + "كلمة " * 1_200_000, encoding="utf-8")
    uploads = [handle_file(str(tmp_path / name)) for name in ("binary.txt", "empty.md", "slides.pdf", "huge.txt")]

    message = Client(app_url, verbose=False).predict(uploads, api_name="/add_articles")
    assert "0 added" in message
    assert "binary.txt looks like a binary file" in message
    assert "empty.md is empty" in message
    assert "slides.pdf: unsupported file type" in message
    assert "huge.txt is" in message and "larger than 5 MiB are refused" in message
    assert seeded_pipeline.articles() == before


def test_the_status_reports_the_model_the_index_and_whether_ollama_answers(app_url, seeded_pipeline, fake_ollama, monkeypatch):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    chunks = seeded_pipeline.status()["chunks"]
    monkeypatch.setattr(seeded_pipeline, "settings", replace(seeded_pipeline.settings, ollama_host=fake_ollama.host))
    status, *_ = client.predict(api_name="/status")
    assert "(embedded)" in status and f"<b>Index</b> 5 articles, {chunks} chunks ·" in status
    assert status.endswith(f"<b>Ollama</b> reachable at {fake_ollama.host}</div>")

    monkeypatch.setattr(seeded_pipeline, "settings", replace(seeded_pipeline.settings, ollama_host="http://127.0.0.1:9"))
    status, *_ = client.predict(api_name="/status")
    assert status.endswith("<b>Ollama</b> not reachable at http://127.0.0.1:9</div>")
