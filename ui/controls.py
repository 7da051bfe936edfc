"""The pipeline all sessions share, the model settings that change it, and the status line."""
from __future__ import annotations

from dataclasses import replace
from html import escape

from rag.backends import make_chat_model
from rag.backends.ollama import ollama_reachable
from rag.errors import RagError
from rag.pipeline import Pipeline

MODEL_SETTINGS = ("backend", "ollama_model", "temperature")  # a change to these needs a new chat model


class SharedPipeline:
    """One pipeline for every session (there is one model); new model settings swap in a new one."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    def reconfigure(self, backend: str, ollama_model: str, top_k: int, temperature: float) -> str:
        """Apply the settings, building a new chat model only when needed; a failure keeps the old ones."""
        current = self.pipeline.settings
        settings = replace(
            current,
            backend=backend,
            ollama_model=ollama_model.strip() or current.ollama_model,
            top_k=int(top_k),
            temperature=float(temperature),
        )
        if all(getattr(settings, name) == getattr(current, name) for name in MODEL_SETTINGS):
            self.pipeline.settings = settings
            return f"Retrieving {settings.top_k} chunks per question."
        chat_model = make_chat_model(settings)
        self.pipeline = Pipeline(settings, chat_model=chat_model, embedder=self.pipeline.embedder)
        return f"Now answering with {chat_model.name}, temperature {settings.temperature:g}, top-k {settings.top_k}."


def status_html(pipeline: Pipeline) -> str:
    """Model in use, index size and whether Ollama answers; an error becomes the status."""
    host = pipeline.settings.ollama_host
    ollama = "reachable" if ollama_reachable(host) else "not reachable"
    try:
        status = pipeline.status()
    except RagError as exc:
        return f'<div class="status error">⚠ {escape(str(exc))} · Ollama {ollama} at {escape(host)}</div>'
    return (
        f'<div class="status"><b>Model</b> {escape(status["model_status"])} · '
        f'<b>Index</b> {status["articles"]} articles, {status["chunks"]} chunks · '
        f"<b>Ollama</b> {ollama} at {escape(host)}</div>"
    )
