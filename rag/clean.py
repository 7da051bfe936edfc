"""Drop what is not the article: site boilerplate, bylines, stray section labels.

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
    lines = [article.headline, *article.text.split("\n")]
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
