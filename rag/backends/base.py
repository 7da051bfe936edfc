"""What every backend is: a chat model that streams text, or an embedder that returns vectors.

The base classes do the shared work, so a backend only talks to its engine: the chat model
gets plain `{"role", "content"}` messages and fills a `Usage`; the embedder gets one batch
of texts at a time and returns its vectors as one array (a row per text): rows go on to Chroma
and to the lexical index's float16 table as they are, never through Python lists.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from llama_index.core.llms import ChatMessage


@dataclass
class Usage:
    """Token counts of one model call, and why it stopped."""

    prompt_tokens: int = 0
    answer_tokens: int = 0
    finish_reason: str = ""  # "stop"; "length" when max_tokens cut the answer short
    # what the engine reports about itself, when it does (llama.cpp): prompt tokens taken from
    # its cache instead of read again, and its reading and writing speeds (rag bench model)
    cached_prompt_tokens: int = 0
    read_tokens_per_s: float | None = None
    write_tokens_per_s: float | None = None

    @property
    def cut_short(self) -> bool:
        return self.finish_reason == "length"

    def add(self, call: Usage) -> None:
        """Count another call's tokens in (a question or a long context can take several calls)."""
        self.prompt_tokens += call.prompt_tokens
        self.answer_tokens += call.answer_tokens


class ChatModel(ABC):
    name: str

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        usage: Usage | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the model writes them; with `schema`, the text is JSON that
        validates against it. Fills `usage` when given."""
        plain = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        return self._stream(plain, schema=schema, max_tokens=max_tokens, usage=usage if usage is not None else Usage())

    @abstractmethod
    def _stream(self, messages: list[dict], *, schema: dict | None, max_tokens: int, usage: Usage) -> Iterator[str]: ...

    @abstractmethod
    def status(self) -> str:
        """One line for a status bar: model name and whether it is reachable."""


class Embedder(ABC):
    name: str  # recorded in the index; a different embedder needs a rebuild
    dimension: int
    batch_size = 32

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text."""
        return self._embed(texts, is_query=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text."""
        return self._embed(texts, is_query=True)

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        import numpy as np  # here: reading the settings or the CLI's help loads no numpy (tests/test_imports.py)

        batches = [self._embed_batch(texts[start : start + self.batch_size], is_query=is_query)
                   for start in range(0, len(texts), self.batch_size)]
        return np.concatenate(batches).astype(np.float32, copy=False) if batches else np.empty((0, 0), np.float32)

    @abstractmethod
    def _embed_batch(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Unit-length vectors for up to `batch_size` texts, a row each."""
