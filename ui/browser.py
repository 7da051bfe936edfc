"""The chat page in Debian's headless Chromium, driven by Playwright: the browser tests and
`rag bench answer` ask their questions through these functions.

An answer is timed inside the page, from the Enter key to the moment each part of it is
in the chat, so how often Python looks does not change the times.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 1000}
ANSWER_TIMEOUT_MS = 240_000  # a real answer takes 15-25 s on two cores, more while the model loads
LOOK_EVERY_MS = 250  # how often Python looks whether the answer is finished; the times are the page's own

# Records in window.__answerTimes, in ms after Enter, when the answer of turn `turn` first
# shows the passages being read (or its sources), its first words, and its checked form.
WATCH_ANSWER = """(turn) => {
  const times = window.__answerTimes = {enter: null, sources: null, words: null, final: null};
  const box = document.querySelector('#question textarea');
  const onEnter = (event) => {
    if (event.key !== 'Enter') return;
    times.enter = performance.now();
    box.removeEventListener('keydown', onEnter, true);
  };
  box.addEventListener('keydown', onEnter, true);
  const observer = new MutationObserver(() => {
    const answer = document.querySelectorAll('#chat .msg.answer, #chat .msg.error')[turn];
    if (!answer || times.enter === null) return;
    const after = performance.now() - times.enter;
    if (times.sources === null && answer.querySelector('.reading, .sources')) times.sources = after;
    const text = answer.querySelector('p');
    if (times.words === null && text && text.textContent.replace('▍', '').trim() !== '') times.words = after;
    if (!answer.classList.contains('draft')) {
      times.final = after;
      observer.disconnect();
    }
  });
  observer.observe(document.querySelector('#chat'), {childList: true, subtree: true, characterData: true});
}"""
_SECONDS = re.compile(r"(\d+(?:\.\d+)?) s")


@dataclass
class AnswerTimes:
    """Seconds from Enter until each part of an answer was in the chat, and the model's own timings."""

    sources_s: float | None  # the passages being read (None: declined before the model was asked)
    first_words_s: float
    final_s: float
    model_first_token_s: float | None  # as the answer's meta line shows them (None: not shown)
    model_total_s: float | None


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium through Playwright (the Playwright package, Debian's browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#status .status")
    page.wait_for_selector("#question textarea")


def clear_chat(page) -> None:
    """Clear the chat and wait until it is empty. Clearing also empties the question box when the
    server answers, so on an empty chat it is skipped: that reply could wipe the next question."""
    if page.locator("#chat .msg").count() == 0:
        return
    page.click("#clear")
    page.wait_for_function("() => document.querySelectorAll('#chat .msg').length === 0")


def ask(page, question: str) -> AnswerTimes:
    """Type the question, press Enter and wait for the checked answer."""
    turn = page.locator("#chat .msg.question").count()
    page.evaluate(WATCH_ANSWER, turn)
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        "() => window.__answerTimes.final !== null", timeout=ANSWER_TIMEOUT_MS, polling=LOOK_EVERY_MS
    )
    times = page.evaluate("() => window.__answerTimes")
    meta = page.locator("#chat .msg").last.locator(".meta")
    first_token, total = shown_seconds(meta.inner_text() if meta.count() else "")
    return AnswerTimes(
        sources_s=None if times["sources"] is None else _seconds(times["sources"]),
        first_words_s=_seconds(times["words"]),
        final_s=_seconds(times["final"]),
        model_first_token_s=first_token,
        model_total_s=total,
    )


def _seconds(ms: float) -> float:
    return round(ms / 1000, 3)


def shown_seconds(meta: str) -> tuple[float | None, float | None]:
    """(first token, total) from an answer's meta line, "model · first token 7.9 s · total 12.3 s"."""
    found = [float(value) for value in _SECONDS.findall(meta)]
    return (found[-2], found[-1]) if len(found) >= 2 else (None, None)
