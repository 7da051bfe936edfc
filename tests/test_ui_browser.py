"""The chat in a real headless Chromium: ask, watch it stream, open a source; no article can run a script."""
import json
import re
import shutil
from contextlib import contextmanager

import pytest

from rag.answer_log import AnswerLog
from rag.eval.gold_check import item_problems, source_articles
from rag.pipeline import Pipeline
from rag.types import Answer, Citation, Passage, Sentence
from rag.settings import load_settings
from ui.browser import ANSWER_TIMEOUT_MS, CHROMIUM, VIEWPORT, ask, chromium, clear_chat, open_chat

from conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
QUESTION_4000 = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
SEED_QUESTIONS = [
    QUESTION_4000,
    "ما عيار راجمات الصواريخ المتعددة التي أرسلتها كوريا الشمالية إلى روسيا؟",
    "كم جندياً أمريكياً يتمركز بشكل دائم في كوريا الجنوبية؟",
]
XSS_ARTICLE = """تقرير ميناء الزرقاء <img src=x onerror="window.__xss=1">

أفرغت الناقلة بلو هيرون 42 ألف برميل من الديزل في ميناء الزرقاء يوم الاثنين.
ونقل سجل الميناء العبارة <script>window.__xss=1</script> والعبارة <img src=x onerror="window.__xss=1"> في ملاحظاته.
واستغرق التفريغ تسع ساعات بحسب رئيسة لجنة الميناء ليلى حداد.
"""
XSS_QUESTION = "كم برميلاً من الديزل أفرغت الناقلة بلو هيرون في ميناء الزرقاء؟"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"the browser tests need Debian's Chromium at {CHROMIUM} (`make browser` installs it)"
)

# Whether the answer of turn n (0-based) is finished.
_ANSWER = "(turn) => document.querySelectorAll('#chat .msg.answer, #chat .msg.error')[turn]"
FINISHED = f"(turn) => {{ const a = ({_ANSWER})(turn); return !!a && !a.classList.contains('draft'); }}"
TABLE_SHOWS = "(text) => document.querySelector('#articles').innerText.includes(text)"
RESULT_SAYS = "(text) => document.querySelector('#articles-message textarea').value.includes(text)"
# The words of an answer's sentences, without their citation badges.
SENTENCE_WORDS = (
    "(spans) => spans.map(s => [...s.childNodes].filter(n => n.nodeType === Node.TEXT_NODE)"
    ".map(n => n.textContent).join('')).join(' ')"
)
# Every animation that never ends (a spinner, a pulsing border) seen whenever the chat changes.
RECORD_ENDLESS_ANIMATIONS = """() => {
  window.__endless = [];
  new MutationObserver(() => {
    for (const a of document.getAnimations()) {
      if (a.effect && a.effect.getComputedTiming().iterations === Infinity) window.__endless.push(a.animationName);
    }
  }).observe(document.querySelector('#chat'), {childList: true, subtree: true, characterData: true});
}"""
IN_VIEW = (
    "(id) => { const box = document.getElementById(id).getBoundingClientRect(); "
    "return box.top >= 0 && box.bottom <= innerHeight; }"
)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport=VIEWPORT)
    yield page
    page.close()


@contextmanager
def running(pipeline, **options):
    """The app on a free local port, shut down afterwards."""
    from ui.app import build_app, launch

    demo = build_app(pipeline, **options)
    _, url, _ = launch(demo, port=None, prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def seeded_url(seeded_pipeline):
    with running(seeded_pipeline) as url:
        yield url


@pytest.fixture
def empty_index_url(seeded_pipeline, tmp_path):
    """An app over an empty index of its own, sharing the session's models."""
    settings, _ = load_settings({"home": str(tmp_path / "home")})
    pipeline = Pipeline(settings, chat_model=seeded_pipeline.chat_model, embedder=seeded_pipeline.embedder)
    with running(pipeline) as url:
        yield url


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_the_page_loads_without_outside_requests_and_lists_the_articles(page, seeded_url):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    open_chat(page, seeded_url)
    assert "5 articles" in page.inner_text("#status")
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_function(TABLE_SHOWS, arg="003_0b40211500770580")
    outside = [url for url in requested if not url.startswith(seeded_url.rstrip("/")) and not url.startswith("data:")]
    assert outside == []


def test_an_arabic_answer_streams_in_with_a_citation_that_opens_its_source(page, seeded_url, seeded_pipeline):
    open_chat(page, seeded_url)
    page.evaluate(RECORD_ENDLESS_ANIMATIONS)
    times = ask(page, QUESTION_4000)
    print(f"\npassages shown {times.sources_s:.1f} s, first text {times.first_words_s:.1f} s, full answer {times.final_s:.1f} s")
    assert times.sources_s < times.first_words_s, "the passages being read are shown before the first words"
    assert page.evaluate("window.__endless") == [], "nothing moves on the page while the model works"

    question, answer = page.locator("#chat .msg.question").last, page.locator("#chat .msg.answer").last
    assert question.get_attribute("dir") == "rtl" and answer.get_attribute("dir") == "rtl"
    badge = answer.locator("a.cite.supported").first
    badge.wait_for()
    source = page.locator(badge.get_attribute("href"))
    assert not source.is_visible(), "the sources start folded"
    badge.click()
    source.wait_for(state="visible")
    page.wait_for_function(IN_VIEW, arg=badge.get_attribute("href")[1:])
    assert "✓" in source.inner_text() and source.locator("mark").inner_text().strip()
    screenshot(page, "answer-with-source.png")

    page.fill("#rating-comment textarea", "clear and sourced")
    page.locator("#chat button[aria-label='Like']").last.click()
    page.wait_for_function("() => document.body.innerText.includes('your rating was saved')")
    logged = AnswerLog(seeded_pipeline.settings).recent(limit=50)
    rated = next(entry for entry in logged if entry.rating)
    assert (rated.rating, rated.comment, rated.source) == ("up", "clear and sourced", "chat")
    assert rated.answer.question == QUESTION_4000 and rated.answer.cited_passages
    assert rated.settings["backend"] == "embedded"


def test_a_near_miss_is_declined_in_the_chat_naming_what_the_articles_lack(page, seeded_url):
    open_chat(page, seeded_url)
    ask(page, "كم عدد الجنود الكوريين الشماليين الذين أسرتهم القوات الأوكرانية؟")
    answer = page.locator("#chat .msg.answer").last
    assert "abstained" in answer.get_attribute("class").split()
    reply = answer.locator("p").first.inner_text()
    assert "تذكر المقالات «الجنود»" in reply and reply.endswith("لكنها لا تذكر «أسرتهم».")
    screenshot(page, "decline-names-what-is-missing.png")


def test_script_in_an_article_shows_as_text_and_never_runs(page, empty_index_url, tmp_path):
    article = tmp_path / "xss_probe.txt"
    article.write_text(XSS_ARTICLE, encoding="utf-8")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page, empty_index_url)

    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#uploads input[type=file]", str(article))
    page.get_by_role("button", name="Add to index").click()
    page.wait_for_function(RESULT_SAYS, arg="1 added")
    page.wait_for_function(TABLE_SHOWS, arg="xss_probe")
    assert '<img src=x onerror="window.__xss=1">' in page.inner_text("#articles")

    page.get_by_role("tab", name="Chat").click()
    ask(page, XSS_QUESTION)
    page.eval_on_selector_all("#chat details", "all => all.forEach(d => d.open = true)")
    chat_text = page.inner_text("#chat")
    screenshot(page, "xss-article-as-text.png")
    assert page.locator("#chat .source").count() > 0, "the answer shows its passages, cited or searched"
    assert "<script>window.__xss=1</script>" in chat_text
    assert page.evaluate("window.__xss") is None
    assert page.eval_on_selector_all("#chat script, #chat img, #articles img", "found => found.length") == 0
    assert dialogs == []

    page.get_by_role("tab", name="Articles").click()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="xss_probe").click()
    page.get_by_role("button", name="Remove article").click()
    page.wait_for_function(RESULT_SAYS, arg="Removed xss_probe")
    page.wait_for_function(f"(text) => !({TABLE_SHOWS})(text)", arg="xss_probe")


@pytest.mark.slow
def test_follow_ups_mixed_languages_stop_retry_and_clear(page, seeded_url):
    open_chat(page, seeded_url)
    ask(page, "كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟")
    ask(page, "And how many of them were killed or wounded?")
    answers = page.locator("#chat .msg.answer")
    assert answers.nth(0).get_attribute("dir") == "rtl" and answers.nth(1).get_attribute("dir") == "ltr"
    said = answers.nth(1).locator(".sentence").evaluate_all(SENTENCE_WORDS)
    assert re.search(r"\b4,?000\b|\b(4|four) thousand\b", said, re.IGNORECASE), f"the follow-up gives the 4,000 killed or wounded: {said!r}"

    page.fill("#question textarea", "ما عيار مدافع الهاوتزر التي زودت بها بيونغ يانغ روسيا؟")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#chat .msg.answer.draft")
    page.click("#stop")
    page.wait_for_selector("#chat .msg.answer.stopped")

    page.click("#retry")
    page.wait_for_selector("#chat .msg.answer.stopped", state="detached")
    page.wait_for_function(FINISHED, arg=2, timeout=ANSWER_TIMEOUT_MS, polling=50)
    assert page.locator("#chat .msg.question").count() == 3, "the retried question replaces the stopped one"

    page.click("#clear")
    page.wait_for_function("() => document.querySelectorAll('#chat .msg').length === 0")


@pytest.mark.slow
def test_time_to_first_text_and_full_answer_for_three_seed_questions(page, seeded_url):
    open_chat(page, seeded_url)
    rows = []
    for question in SEED_QUESTIONS:
        clear_chat(page)
        rows.append((question, ask(page, question)))
    print("\npassages  first text  full answer  question  (the model's own first token, total)")
    for question, t in rows:
        print(f"{t.sources_s:6.1f} s  {t.first_words_s:8.1f} s  {t.final_s:9.1f} s  {question}  ({t.model_first_token_s}, {t.model_total_s})")
    badge = page.locator("#chat a.cite.supported").first
    if badge.count():
        badge.click()
        page.wait_for_timeout(800)
    screenshot(page, "arabic-answer-with-sources.png")
    assert all(t.final_s < ANSWER_TIMEOUT_MS / 1000 for _, t in rows)


PROMOTED_PASSAGE = "فقد قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك حتى الآن"


def test_the_evaluation_tab_shows_the_latest_run_and_promotes_a_thumbs_down_answer(page, seeded_pipeline, tmp_path):
    """A reference run in HOME/runs and a logged answer rated 👎: the tab shows both, and Promote writes a gold item."""
    settings, _ = load_settings({"home": str(tmp_path / "home")})
    run = ROOT / "eval" / "runs" / "20261126T143258Z-seeds-answers"
    shutil.copytree(run, settings.runs_dir / run.name)
    passage = Passage(1, "003_0b40211500770580", "كوريا الشمالية", PROMOTED_PASSAGE, 0, len(PROMOTED_PASSAGE), "c1")
    answer = Answer(
        question=QUESTION_4000, language="ar", text=f"{PROMOTED_PASSAGE} [1]",
        sentences=[Sentence(PROMOTED_PASSAGE, [Citation(1, True, "overlap 1.00")])], passages=[passage],
    )
    log = AnswerLog(settings)
    log.rate(log.record(answer, session="s", source="chat"), "down", "should say 4,000 killed or wounded")
    gold = tmp_path / "gold.jsonl"
    pipeline = Pipeline(settings, chat_model=seeded_pipeline.chat_model, embedder=seeded_pipeline.embedder)

    with running(pipeline, gold_file=gold) as url:
        open_chat(page, url)
        page.get_by_role("tab", name="Evaluation").click()
        page.wait_for_function("() => document.querySelector('#run-caption textarea').value.includes('20261126T143258Z')")
        table = page.locator("#run-table").inner_text()
        assert "overall" in table and "numeric" in table and "0.400" in table  # the run's correct rate
        page.wait_for_function("() => { const img = document.querySelector('#history img'); return img && img.naturalWidth > 0; }")
        assert "should say 4,000" in page.locator("#thumbs-down").inner_text()

        page.locator("#promote-choice input").click()
        page.get_by_role("option", name="1").click()
        page.locator("#promote").click()
        page.wait_for_function("() => document.querySelector('#gold-item').innerText.includes('log-1')")
        page.locator("#save-gold").click()
        page.wait_for_function("() => document.querySelector('#promote-message textarea').value.startsWith('Added log-1')")
        screenshot(page, "evaluation-tab.png")

    item = json.loads(gold.read_text(encoding="utf-8"))
    assert item_problems(item, source_articles(ROOT / "seeds")) == []
    assert item["gold_articles"] == ["003_0b40211500770580"] and ["4,000", "4000", "٤٠٠٠"] in item["required_facts"]
