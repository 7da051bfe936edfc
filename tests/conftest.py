import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def rag_home(tmp_path, monkeypatch):
    """Every test gets its own RAG_HOME; no test touches the user's index."""
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


@pytest.fixture(scope="session")
def seeded_pipeline(tmp_path_factory):
    """The five seed articles ingested once for the whole session (read-only for tests)."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("seeded-home"))
    pipeline.ingest([SEEDS], progress=False)
    return pipeline
