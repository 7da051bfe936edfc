"""Answers, drafts and errors as chat HTML: pure functions, everything from articles or the model escaped.

Every message is wrapped in a div with its own `dir`, so Arabic and English turns
sit side by side in one conversation. A citation badge links to its passage in
the sources block under the answer (`#src-<message id>-<n>`); while the answer is
written, the passages the model reads are listed under the draft.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from rag.arabic import detect_language
from rag.draft import RENDERED_MARKER
from rag.passages import by_article
from rag.types import SUPPORTED, UNCITED, UNSUPPORTED, Answer, Citation, Passage, Sentence

LABELS = {
    "en": {
        "sources": "Sources",
        "searched": "Passages searched",
        "reading": "Reading the passages",
        "supported": "supported",
        "unsupported": "not supported",
        "mixed": "partly supported",
        "chars": "chars",
        "uncited_tip": "This sentence cites no passage.",
        "unsupported_tip": "The checker could not find this sentence in the passages it cites.",
        "abstained_tip": "The indexed articles do not contain the answer.",
        "stopped": "stopped",
        "first_token": "first token",
        "total": "total",
        "withheld": "Checked but not shown: they do not answer the question",
        "cut_short": "the answer reached max_answer_tokens and stopped mid-way; raise it for the rest",
    },
    "ar": {
        "sources": "المصادر",
        "searched": "المقاطع التي بُحث فيها",
        "reading": "يقرأ المقاطع",
        "supported": "مدعوم",
        "unsupported": "غير مدعوم",
        "mixed": "مدعوم جزئيًا",
        "chars": "الأحرف",
        "uncited_tip": "هذه الجملة لا تستشهد بأي مقطع.",
        "unsupported_tip": "لم يجد المدقق هذه الجملة في المقاطع التي تستشهد بها.",
        "abstained_tip": "المقالات المفهرسة لا تحتوي على الإجابة.",
        "stopped": "توقف",
        "first_token": "أول رمز",
        "total": "المجموع",
        "withheld": "جمل دُققت ولم تُعرض لأنها لا تجيب عن السؤال",
        "cut_short": "بلغت الإجابة حدّها الأقصى (max_answer_tokens) فتوقفت قبل تمامها؛ ارفعه لبقيتها",
    },
}
CONTEXT_CHARS = 160  # surrounding chunk text shown on each side of a cited passage


def direction(language: str) -> str:
    return "rtl" if language == "ar" else "ltr"


def _message(body: str, language: str, classes: str) -> str:
    return f'<div class="{classes}" dir="{direction(language)}" lang="{language}">{body}</div>'


def question_html(question: str) -> str:
    return _message(f"<p>{escape(question)}</p>", detect_language(question), "msg question")


def draft_html(text: str, language: str, passages: Sequence[Passage] = ()) -> str:
    """The answer while it streams: its [n] markers are inert badges until the answer is checked;
    under it, the headlines of the passages the model is reading (each passage's text on hover)."""
    body = f'<p>{_unchecked(text)}<span class="cursor">▍</span></p>{_reading_html(passages, language)}'
    return _message(body, language, "msg answer draft")


def _reading_html(passages: Sequence[Passage], language: str) -> str:
    if not passages:
        return ""
    texts = {p.number: p.text for p in passages}
    items = "".join(_reading_item(headline, numbers, texts) for headline, numbers in by_article(list(passages)))
    label = f'{LABELS[language]["reading"]} ({len(passages)})'
    return f'<div class="reading"><span class="reading-label">{label}</span><ul class="reading-list">{items}</ul></div>'


def _reading_item(headline: str, numbers: list[int], texts: Mapping[int, str]) -> str:
    badges = "".join(f'<sup class="cite pending">{n}</sup>' for n in numbers)
    tooltip = escape("\n".join(f"[{n}] {texts[n]}" for n in numbers))
    return f'<li title="{tooltip}">{badges} <span class="headline" dir="auto">{escape(headline)}</span></li>'


def stopped_html(text: str, language: str) -> str:
    note = f'<span class="stopped-note">({LABELS[language]["stopped"]})</span>'
    return _message(f"<p>{_unchecked(text)} {note}</p>", language, "msg answer stopped")


def _unchecked(text: str) -> str:
    return RENDERED_MARKER.sub(r'<sup class="cite pending">\1</sup>', escape(text))


def error_html(message: str) -> str:
    return _message(f'<p><span class="mark">⚠</span> {escape(message)}</p>', detect_language(message), "msg error")


def answer_html(answer: Answer, message_id: str, contexts: Mapping[int, tuple[str, str]] | None = None) -> str:
    """The checked answer: marked sentences, badges, then the cited passages in a folded <details> block.

    An abstention is a neutral note, with the passages that were searched folded under it.
    `contexts` maps a passage number to the chunk text (before, after) around it.
    """
    labels = LABELS[answer.language]
    sources = _sources_html(answer, message_id, contexts or {})
    withheld = _withheld_html(answer, labels)
    if answer.abstained:
        body = f'<p title="{escape(labels["abstained_tip"])}"><span class="mark">ℹ</span> {escape(answer.text)}</p>'
        return _message(body + withheld + sources + _meta_html(answer), answer.language, "msg answer abstained")
    numbers = {p.number for p in answer.passages}
    sentences = " ".join(_sentence_html(s, message_id, numbers, labels) for s in answer.sentences)
    return _message(f"<p>{sentences}</p>{withheld}{sources}{_meta_html(answer)}", answer.language, "msg answer")


def _withheld_html(answer: Answer, labels: dict) -> str:
    """The checked sentences left out, each with the reason, folded: nothing the model wrote is hidden unseen."""
    if not answer.withheld:
        return ""
    items = "".join(
        f'<li dir="auto"><span class="withheld-text">{escape(s.text)}</span> '
        f'<span class="withheld-reason">({escape(s.withheld)})</span></li>'
        for s in answer.withheld
    )
    return f'<details class="withheld"><summary>{escape(labels["withheld"])} ({len(answer.withheld)})</summary><ul>{items}</ul></details>'



def _sentence_html(sentence: Sentence, message_id: str, numbers: set[int], labels: dict) -> str:
    badges = "".join(_badge_html(c, message_id, c.passage in numbers) for c in sentence.citations)
    if sentence.verdict == SUPPORTED:
        return f'<span class="sentence supported" dir="auto">{escape(sentence.text)}{badges}</span>'
    uncited = sentence.verdict == UNCITED
    tip = labels["uncited_tip"] if uncited else labels["unsupported_tip"]
    return (
        f'<span class="sentence unsupported{" uncited" if uncited else ""}" dir="auto" title="{escape(tip)}">'
        f'<span class="mark" aria-label="{escape(tip)}">⚠</span> {escape(sentence.text)}{badges}</span>'
    )


def _badge_html(citation: Citation, message_id: str, exists: bool) -> str:
    number, verdict = citation.passage, SUPPORTED if citation.supported else UNSUPPORTED
    title = escape(f"[{number}] {citation.reason}")
    if not exists:
        return f'<sup class="cite {verdict} missing" title="{title}">{number}</sup>'
    return f'<a class="cite {verdict}" href="#src-{message_id}-{number}" title="{title}">{number}</a>'


def _sources_html(answer: Answer, message_id: str, contexts: Mapping[int, tuple[str, str]]) -> str:
    labels = LABELS[answer.language]
    if answer.abstained:
        passages, title = answer.passages, labels["searched"]
    else:
        passages, title = answer.cited_passages, labels["sources"]
    if not passages:
        return ""
    items = "".join(
        _source_html(p, _verdict(answer, p.number), f"src-{message_id}-{p.number}", contexts.get(p.number), labels)
        for p in passages
    )
    return (
        f'<details class="sources"><summary>{title} ({len(passages)})</summary>'
        f'<ol class="source-list">{items}</ol></details>'
    )


def _verdict(answer: Answer, number: int) -> tuple[str, str]:
    """(state, mark) of a passage over every citation of it; "searched" when nothing cites it."""
    verdicts = [c.supported for s in answer.sentences for c in s.citations if c.passage == number]
    if not verdicts:
        return "searched", ""
    if all(verdicts):
        return SUPPORTED, "✓"
    if not any(verdicts):
        return UNSUPPORTED, "✗"
    return "mixed", "✓✗"


def _source_html(
    passage: Passage, verdict: tuple[str, str], anchor: str, context: tuple[str, str] | None, labels: dict
) -> str:
    """One passage: its verdict, headline, the cited text marked within its context, and where it is."""
    state, mark = verdict
    label = f'<span class="verdict {state}">{mark} {labels[state]}</span>' if mark else ""
    before, after = context or ("", "")
    language = detect_language(passage.text)
    text = f"{escape(_tail(before))}<mark>{escape(passage.text)}</mark>{escape(_head(after))}"
    return (
        f'<li id="{anchor}" class="source {state}">'
        f'<div class="source-head"><span class="cite-number">{passage.number}</span>'
        f"{label}"
        f'<span class="headline">{escape(passage.headline)}</span></div>'
        f'<blockquote class="passage" dir="{direction(language)}" lang="{language}">{text}</blockquote>'
        f'<div class="where"><bdi>{escape(passage.article_id)}</bdi> · '
        f'{labels["chars"]} {passage.start}–{passage.end}</div>'
        "</li>"
    )


def _tail(text: str) -> str:
    """The end of the preceding context, cut at a word boundary."""
    if len(text) <= CONTEXT_CHARS:
        return text
    cut = text[-CONTEXT_CHARS:]
    return "…" + cut[cut.find(" ") + 1 :] if " " in cut else "…" + cut


def _head(text: str) -> str:
    if len(text) <= CONTEXT_CHARS:
        return text
    cut = text[:CONTEXT_CHARS]
    return (cut[: cut.rfind(" ")] if " " in cut else cut) + "…"


def _meta_html(answer: Answer) -> str:
    labels = LABELS[answer.language]
    first, total = answer.timings.get("first_token_s"), answer.timings.get("total_s")
    parts = [f"<bdi>{escape(answer.model)}</bdi>"] if answer.model else []
    if first is not None and total is not None:
        parts.append(f'{labels["first_token"]} <bdi>{first:.1f} s</bdi>')
        parts.append(f'{labels["total"]} <bdi>{total:.1f} s</bdi>')
    if answer.cut_short:
        parts.append(f'<span class="cut-short">{escape(labels["cut_short"])}</span>')
    return f'<div class="meta">{" · ".join(parts)}</div>' if parts else ""
