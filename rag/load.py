"""Read article files (.txt, .md, .html) into Articles.

A .txt or .md article's first non-empty line is its headline; an HTML page's
headline is its <h1> (or <title>). The file stem is the article's stable id.
"""
from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from rag.errors import InputError
from rag.types import Article

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_FILE_BYTES = 5 * 1024 * 1024
_BLOCK_TAGS = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article", "blockquote"]
_HIDDEN_TAGS = ["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe", "svg"]


def find_article_files(paths: list[Path]) -> list[Path]:
    """Every readable article file under the given files and folders, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(f"{path}: unsupported file type {path.suffix!r}; use {', '.join(SUFFIXES)}.")
            found.append(path)
        else:
            raise InputError(f"{path} does not exist.")
    return found


def read_article(path: Path) -> Article:
    """Decode and parse one file; refuses binary, undecodable, oversized and empty files."""
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path.name} is {len(raw) // 1024} KiB; articles larger than {MAX_FILE_BYTES // 1024 // 1024} MiB are refused.")
    if b"\x00" in raw:
        raise InputError(f"{path.name} looks like a binary file, not a text article.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again.") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if path.suffix.lower() in (".html", ".htm"):
        headline, body = _parse_html(text)
    else:
        headline, body = _split_headline(_strip_markdown(text) if path.suffix.lower() == ".md" else text)
    if not headline and not body.strip():
        raise InputError(f"{path.name} is empty.")
    return Article(id=path.stem, headline=headline, text=body, source=str(path))


def _split_headline(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            return line.strip(), "\n".join(lines[i + 1 :])
    return "", ""


def _strip_markdown(text: str) -> str:
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their text
    return re.sub(r"(\*\*|__|`)", "", text)


def _parse_html(html: str) -> tuple[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_HIDDEN_TAGS):
        tag.decompose()
    h1 = soup.find("h1")
    title = soup.find("title")
    headline = (h1.get_text(" ", strip=True) if h1 else "") or (title.get_text(" ", strip=True) if title else "")
    if h1:
        h1.decompose()
    if title:
        title.decompose()
    root = soup.find("article") or soup.body or soup
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in root.get_text().split("\n"))
    return headline, "\n".join(line for line in lines if line)
