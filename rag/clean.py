"""Drop what is not the article: site boilerplate, bylines, stray section labels,
and characters that could act on the model or hide text from the reader.

The cleaned text starts with the headline line, so a citation can point into
the headline too; every chunk offset refers to this cleaned text.
"""
from __future__ import annotations

import re

from rag.arabic import normalize
from rag.errors import InputError
from rag.types import Article

# Lines that are the website, not the article (matched on normalized text).
_BOILERPLATE = [
    r"^اقرا ايضا",
    r"^اقرا المزيد",
    r"^مقالات ذات صله",
    r"^اخبار ذات صله",
    r"^مواضيع ذات صله",
    r"^اترك تعليقا",
    r"^اضف تعليق",
    r"^لن يتم نشر عنوان بريدك الالكتروني",
    r"^الحقول الالزاميه",
    r"^زر الذهاب الي الاعلي",
    r"^شارك (هذا|المقال|الخبر)",
    r"^تابعونا",
    r"^(الاسم|البريد الالكتروني|الموقع الالكتروني|التعليق)\s*\*?$",
    r"^احفظ اسمي",
    r"^(read more|related articles|leave a (comment|reply)|share this|back to top)\b",
]
_BOILERPLATE_RE = re.compile("|".join(_BOILERPLATE), re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", "؟", "…", "”", '"', ":")
# A line this short with no sentence ending and no number is a section label
# ("الأخبار العالمية") or a byline, not a sentence of the article.
_LABEL_MAX_WORDS = 8


# Invisible characters that can hide or reorder text: zero-width spaces and joiners, word
# joiners and invisible operators, the byte-order mark, bidi embeddings, overrides and
# isolates, and Unicode tag characters (ASCII written invisibly). The LRM/RLM/ALM marks stay:
# they only direct punctuation.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")
# Control characters other than newline and tab (C0, DEL and C1).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Chat-template tokens such as <|im_start|> or <|endoftext|>: a tokenizer may read them as
# the template's own markers. They are kept readable, as [im_start].
# The name is matched in one bounded run and trimmed afterwards: "<|" followed by a page of
# spaces must not be rescanned from every space.
_TEMPLATE_TOKEN = re.compile(r"<\|([^<>|]{0,80})\|>")


def neutralise(text: str) -> str:
    """Text from an article or a user, made inert for the model and honest on screen:
    hidden and reordering characters and control characters removed, chat-template tokens
    defused. Applied to articles at ingest and to every text a prompt is built from."""
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(lambda m: " " if m.group() in "\x0b\x0c\x1c\x1d\x1e\x85" else "", text)
    return _TEMPLATE_TOKEN.sub(lambda m: f"[{m.group(1).strip()}]", text)


def is_boilerplate(line: str) -> bool:
    return bool(_BOILERPLATE_RE.search(normalize(line.strip())))


def is_stray_label(line: str) -> bool:
    stripped = line.strip()
    words = stripped.split()
    if len(words) > _LABEL_MAX_WORDS or any(ch.isdigit() for ch in stripped):
        return False
    return not stripped.endswith(_SENTENCE_END) or stripped.count(".") > 1


def clean_article(article: Article) -> Article:
    """Return the article with boilerplate and labels removed; the headline is the first kept line."""
    lines = [neutralise(article.headline), *neutralise(article.text).split("\n")]
    kept = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in lines]
    kept = [line for line in kept if line and not is_boilerplate(line)]
    # A leading section label ("الأخبار العالمية") is not the headline when a
    # headline-like line (no sentence ending) follows it.
    while len(kept) > 2 and len(kept[0].split()) <= 3 and is_stray_label(kept[0]) and not kept[1].endswith(_SENTENCE_END):
        kept.pop(0)
    if not kept:
        raise InputError(f"{article.id}: nothing is left after removing site boilerplate; is it an article?")
    headline, body = kept[0], [line for line in kept[1:] if not is_stray_label(line)]
    if not body:
        raise InputError(f"{article.id}: the article has a headline but no text.")
    return Article(id=article.id, headline=headline, text="\n".join([headline, *body]), source=article.source)
