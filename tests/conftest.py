import os
from pathlib import Path

import pytest

from rag.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


USERS_SETTINGS = load_settings()[0]  # before any test's own RAG_HOME
# ARCD where `rag eval` run in the checkout finds it: ../shared beside it, or RAG_ARCD_FILE.
ARCD_FILE = ROOT / USERS_SETTINGS.arcd_file
# Every test's RAG_HOME shares the user's model cache (HOME/cache by default): the 1.1 GB model
# file and the native llama.cpp build are made once per machine, not once per test.
os.environ.setdefault("RAG_CACHE_DIR", str(USERS_SETTINGS.cache_dir))


@pytest.fixture(autouse=True)
def rag_home(tmp_path, monkeypatch):
    """Every test gets its own RAG_HOME; no test touches the user's index. Tests run in the
    project folder, as `rag eval` and `rag ingest seeds/` expect."""
    monkeypatch.chdir(ROOT)
    home = tmp_path / "rag-home"
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    monkeypatch.delenv("RAG_BACKEND", raising=False)
    return home


def make_pipeline(home: Path, **overrides):
    """A real pipeline (embedded models, embedded Chroma) whose state lives under `home`."""
    from rag.pipeline import Pipeline
    from rag.settings import load_settings

    settings, _ = load_settings({"home": str(home), **overrides})
    return Pipeline(settings)


def term_statistics(texts: list[str]):
    """An in-memory lexical index of `texts`, one chunk and one article each: the term statistics
    (how many chunks use each term) that answerability and relevance weigh focus terms by."""
    from rag.lexical import LexicalIndex, StoredChunk
    from rag.types import Chunk

    index = LexicalIndex(":memory:")
    chunks = [Chunk(f"chunk-{i}", f"article-{i}", "", text, 0, len(text), 0) for i, text in enumerate(texts)]
    index.write([StoredChunk(chunk, "hash", "", 0.0) for chunk in chunks], [], revision="1")
    return index


@pytest.fixture(scope="session")
def seeded_pipeline(tmp_path_factory):
    """The five seed articles ingested once for the whole session (read-only for tests)."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("seeded-home"))
    pipeline.ingest([SEEDS], progress=False)
    return pipeline


@pytest.fixture(scope="module")
def fake_ollama():
    """A FAKE Ollama server (tests/fake_ollama.py) on a free local port, for one test module."""
    from fake_ollama import FakeOllamaServer

    with FakeOllamaServer() as fake:
        yield fake


@pytest.fixture
def fresh_ollama_checks(monkeypatch):
    """Each test starts as a new process would: no Ollama model checked yet."""
    from rag.backends import ollama

    monkeypatch.setattr(ollama, "_ready_models", set())


@pytest.fixture
def ollama_pipeline(tmp_path, fake_ollama, seeded_pipeline, fresh_ollama_checks):
    """The seeded index answered by the fake Ollama: retrieval and checking are real, the model's words scripted."""
    fake_ollama.forget()
    pipeline = make_pipeline(tmp_path / "home", backend="ollama", ollama_host=fake_ollama.host)
    pipeline._store, pipeline._embedder, pipeline._retriever = (
        seeded_pipeline.store, seeded_pipeline.embedder, seeded_pipeline.retriever
    )
    return pipeline


# --- heavy reliability tests: run once per change to the code they cover -------------
#
# `@pytest.mark.heavy(covers=["rag/ingest.py", "rag/store.py"])` marks a test that takes
# minutes. `make test` runs it when the covered files differ from the last time it passed
# (recorded in tests/heavy-passes.json, which is committed), and skips it otherwise, so CI
# runs it at least once for every change to that code. RAG_HEAVY=all runs every one.

HEAVY_PASSES = Path(__file__).resolve().parent / "heavy-passes.json"


def covered_digest(covers) -> str:
    """sha256 over the covered files (globs relative to the repository), in a stable order."""
    import hashlib

    digest = hashlib.sha256()
    for pattern in covers:
        matches = sorted(ROOT.glob(pattern))
        if not matches:
            raise pytest.UsageError(f"heavy test covers {pattern!r}, which matches no file")
        for path in matches:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _heavy_passes() -> dict:
    import json

    return json.loads(HEAVY_PASSES.read_text()) if HEAVY_PASSES.exists() else {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "heavy(covers): a reliability test that takes minutes; runs when the files it covers changed since it last "
        "passed (tests/heavy-passes.json), or always with RAG_HEAVY=all",
    )


def pytest_collection_modifyitems(config, items):
    passes = _heavy_passes()
    run_all = os.environ.get("RAG_HEAVY") == "all"
    for item in items:
        marker = item.get_closest_marker("heavy")
        if marker is None:
            continue
        digest = covered_digest(marker.kwargs["covers"])
        item.stash[_HEAVY_DIGEST] = digest
        if not run_all and passes.get(item.nodeid) == digest:
            item.add_marker(pytest.mark.skip(
                reason="heavy: passed on this exact code (tests/heavy-passes.json); RAG_HEAVY=all runs it again"
            ))


_HEAVY_DIGEST = pytest.StashKey[str]()


def pytest_runtest_logreport(report):
    """A heavy test that passed records the digest of the code it passed on."""
    import json

    if report.when != "call" or not report.passed or "heavy" not in report.keywords:
        return
    digest = _PASSED_DIGESTS.pop(report.nodeid, None)
    if digest is None:
        return
    passes = _heavy_passes()
    passes[report.nodeid] = digest
    HEAVY_PASSES.write_text(json.dumps(dict(sorted(passes.items())), indent=2) + "\n")


_PASSED_DIGESTS: dict[str, str] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if _HEAVY_DIGEST in item.stash:
        _PASSED_DIGESTS[item.nodeid] = item.stash[_HEAVY_DIGEST]
    yield
