"""Read article files (.txt, .md, .html) into Articles.

A .txt or .md article's first non-empty line is its headline; an HTML page's
headline is its <h1> (or <title>). The file stem is the article's stable id.

Anything that is not a readable text article is refused with an InputError that
says why: links to nowhere, pipes, folders named like articles, files over the
size limit, binary or undecodable bytes, empty files and names no id can be.
"""
from __future__ import annotations

import codecs
import os
import re
import stat
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import InputError
from rag.types import Article

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_FILE_BYTES = 5 * 1024 * 1024
# UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BYTE_ORDER_MARKS = [
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
]
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article", "blockquote"}
_HIDDEN_TAGS = {"script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe", "svg"}
# Elements without an end tag: never open, so they cannot hide or hold text.
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


def find_article_files(paths: list[Path]) -> list[Path]:
    """Every article file under the given files and folders, sorted.

    An entry named like an article that is not a regular file (a broken link, a pipe) is
    listed too, so that read_article says why it is refused instead of it being skipped
    unseen. Links to folders are not followed, so a link loop cannot trap the search.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            try:
                entries = sorted(path.rglob("*"))
            except OSError as exc:
                raise InputError(f"{path} could not be searched ({exc.strerror}); check the folder and try again.") from None
            found.extend(p for p in entries if p.suffix.lower() in SUFFIXES and not p.is_dir())
        elif path.exists() or path.is_symlink():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(f"{path}: unsupported file type {path.suffix!r}; use {', '.join(SUFFIXES)}.")
            found.append(path)
        else:
            raise InputError(f"{path} does not exist.")
    return found


def read_article(path: Path) -> Article:
    """Decode and parse one file; refuses unreadable, oversized, binary, undecodable and empty files."""
    article_id = _article_id(path)
    text = _decode(_read_file(path), path.name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if path.suffix.lower() in (".html", ".htm"):
        headline, body = _parse_html(text, path.name)
    else:
        headline, body = _split_headline(_strip_markdown(text) if path.suffix.lower() == ".md" else text)
    if not headline and not body.strip():
        raise InputError(f"{path.name} is empty.")
    return Article(id=article_id, headline=headline, text=body, source=str(path))


def _article_id(path: Path) -> str:
    """The file stem, if it can name an article: in UTF-8, printable (no line breaks, control or
    invisible characters), and without spaces around it."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{str(path)!r}: the file name is not valid UTF-8; rename the file and try again.") from None
    stem = path.stem
    if not stem.strip():
        raise InputError(f"{path.name!r}: the file name has nothing before its extension; rename the file.")
    if not stem.isprintable() or stem != stem.strip():
        raise InputError(
            f"{path.name!r}: the file name has control, invisible or surrounding space characters, "
            "so its article id could not be shown or typed; rename the file."
        )
    return stem


def _read_file(path: Path) -> bytes:
    """The bytes of a regular file, at most one over the size limit.

    Opened without blocking and checked after opening, so a pipe named like an article
    cannot hang ingest and a file swapped for something else in between is still caught.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{path.name} is a link to a file that does not exist; fix or remove the link.") from None
        raise InputError(f"{path.name} was moved or deleted before it could be read; run the ingest again.") from None
    except OSError as exc:
        raise InputError(f"{path.name} cannot be opened ({exc.strerror}); check the file and try again.") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path.name} is a folder, not an article file; rename it or pass the folder itself.")
        raise InputError(f"{path.name} is not a regular file (a pipe, socket or device); only files are read.")
    with os.fdopen(descriptor, "rb") as file:
        try:
            raw = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path.name} could not be read ({exc.strerror}); check the file and try again.") from None
    if len(raw) > MAX_FILE_BYTES:
        size_kib = max(info.st_size, len(raw)) // 1024
        raise InputError(f"{path.name} is {size_kib} KiB; articles larger than {MAX_FILE_BYTES // 1024 // 1024} MiB are refused.")
    return raw


def _decode(raw: bytes, name: str) -> str:
    """UTF-8, or UTF-16/32 when a byte-order mark says so (the mark makes it unambiguous)."""
    codec, label = next(((codec, label) for mark, codec, label in _BYTE_ORDER_MARKS if raw.startswith(mark)), ("utf-8", "UTF-8"))
    if codec == "utf-8" and b"\x00" in raw:
        raise InputError(f"{name} looks like a binary file, not a text article.")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        cut = ", cut off in the middle of a character" if exc.end >= len(raw) else ""
        raise InputError(f"{name} is not {label} text (byte {exc.start}{cut}); save it as UTF-8 and try again.") from None
    if "\x00" in text:
        raise InputError(f"{name} looks like a binary file, not a text article.")
    return text


def _split_headline(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            return line.strip(), "\n".join(lines[i + 1 :])
    return "", ""


def _strip_markdown(text: str) -> str:
    # Bracketed parts stop at a bracket or a line end and have a length cap, so a line of
    # thousands of unmatched "[" is scanned once, not once per bracket.
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\[\]\n]{0,500}\]\([^()\n]{0,2000}\)", "", text)  # images
    text = re.sub(r"\[([^\[\]\n]{1,500})\]\([^()\n]{0,2000}\)", r"\1", text)  # links keep their text
    return re.sub(r"(\*\*|__|`)", "", text)


def _parse_html(html: str, name: str) -> tuple[str, str]:
    page = _PageText()
    try:
        page.feed(_unclosed_brackets_as_text(html))
        page.close()
    except AssertionError as exc:  # html.parser's way of giving up on malformed markup ("<![<![")
        raise InputError(f"{name} has markup the HTML reader cannot follow ({exc}); save the page as text and try again.") from None
    return page.headline(), page.body()


def _unclosed_brackets_as_text(html: str) -> str:
    """The page with every "<" after its last ">" escaped.

    No tag can start there, and html.parser shows such text as it is anyway; but it would
    first rescan to the end of the page from each "<", which for a page ending in thousands
    of them ("<a <a <a ...") takes hours."""
    tail = html.rfind(">") + 1
    return html[:tail] + html[tail:].replace("<", "&lt;")


class _PageText(HTMLParser):
    """The visible text of a page, read in one pass over its tags: the first <h1> (or <title>)
    is the headline; the text of the first <article> (or <body>, or the whole page) is the
    body, one line per block element. Hidden elements (scripts, navigation, footers) are dropped.

    A stack of open tags instead of a parsed tree keeps a page of 100,000 nested elements
    linear in time and free of recursion."""

    _CAPTURED = ("h1", "title", "body", "article")  # the first of each is kept apart

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []  # tags not yet closed, outermost first
        self.open_count: Counter[str] = Counter()
        self.hidden = 0  # how many open tags are hidden elements
        self.capturing: dict[str, int] = {}  # a first h1/title/body/article still open -> its place in `open`
        self.seen: set[str] = set()
        self.texts: dict[str, list[str]] = {name: [] for name in ("page", *self._CAPTURED)}

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self._add("\n")
        if tag in _VOID_TAGS:
            return
        if tag in self._CAPTURED and tag not in self.seen and not self.hidden:
            self.seen.add(tag)
            self.capturing[tag] = len(self.open)
        self.open.append(tag)
        self.open_count[tag] += 1
        self.hidden += tag in _HIDDEN_TAGS

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if not self.open_count[tag]:  # a stray end tag closes nothing
            return
        closed = None
        while closed != tag:  # an end tag also closes the tags left open inside it
            closed = self.open.pop()
            self.open_count[closed] -= 1
            self.hidden -= closed in _HIDDEN_TAGS
            if self.capturing.get(closed) == len(self.open):
                del self.capturing[closed]
        if tag in _BLOCK_TAGS:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if "h1" in self.capturing:
            self.texts["h1"].append(data)
        elif "title" in self.capturing:
            self.texts["title"].append(data)
        else:
            self._add(data)

    def _add(self, text: str) -> None:
        if self.hidden:
            return
        self.texts["page"].append(text)
        for part in ("body", "article"):
            if part in self.capturing:
                self.texts[part].append(text)

    def headline(self) -> str:
        return _joined_words(self.texts["h1"]) or _joined_words(self.texts["title"])

    def body(self) -> str:
        candidates = ("".join(self.texts[name]) for name in ("article", "body", "page"))
        text = next((text for text in candidates if text.strip()), "")
        lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n"))
        return "\n".join(line for line in lines if line)


def _joined_words(strings: list[str]) -> str:
    return " ".join(s.strip() for s in strings if s.strip())
