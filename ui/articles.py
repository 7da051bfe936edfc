"""The Articles tab: list the index, add uploaded files, remove an article."""
from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from rag.load import SUFFIXES
from rag.pipeline import Pipeline
from rag.lexical import ArticleRecord

HEADERS = ["Headline", "Article id", "Chunks", "Ingested"]


def article_rows(articles: list[ArticleRecord]) -> list[list]:
    return [
        [a.headline, a.article_id, a.chunks, datetime.fromtimestamp(a.ingested_at).strftime("%Y-%m-%d %H:%M")]
        for a in articles
    ]


def add_uploads(pipeline: Pipeline, uploads: list[str]) -> str:
    """Ingest uploaded files under their original names (the stem is the article id); one line per outcome."""
    if not uploads:
        return "Choose one or more .txt, .md or .html files first."
    limit = pipeline.settings.max_articles_per_upload
    if len(uploads) > limit:
        return (
            f"Refused: {len(uploads)} files chosen; this server adds up to {limit} at a time "
            f"(max_articles_per_upload). Add them in smaller batches; nothing was added."
        )
    lines = []
    with tempfile.TemporaryDirectory(prefix="rag-upload-") as folder:
        accepted = []
        for upload in map(Path, uploads):
            # Gradio keeps each upload at <cache>/<hash>/<original name>.
            if upload.suffix.lower() not in SUFFIXES:
                lines.append(_refusal(upload.name, f"unsupported file type; use {', '.join(SUFFIXES)}."))
                continue
            target = Path(folder) / upload.name
            if target.exists():
                lines.append(_refusal(upload.name, "another upload has the same name."))
                continue
            shutil.copyfile(upload, target)
            accepted.append(target)
        if accepted:
            report = pipeline.ingest(accepted, progress=True)
            lines[:0] = [f"Index updated: {report.summary()}."]
            lines += [_refusal(Path(path).name, message) for path, message in report.failed]
    return "\n".join(lines)


def _refusal(name: str, message: str) -> str:
    return f"Refused: {message}" if message.startswith(name) else f"Refused: {name}: {message}"


def remove(pipeline: Pipeline, article_id: str | None) -> str:
    if not article_id:
        return "Choose an article to remove."
    pipeline.remove_article(article_id)
    return f"Removed {article_id}."
