"""The regression gates, through the `rag eval` command: each committed baseline passes,
and a deliberately worse setting fails with exit code 3 naming the metrics that dropped."""
from __future__ import annotations

import json

import pytest

from conftest import ARCD_FILE, ROOT
from rag.cli import main
from rag.eval.gate import GATE_FAILED

BASELINES = ROOT / "eval" / "baselines"
# Minutes on an idle machine (ARCD: ~15 s ingest + 702 retrievals; subset: 16 answers × ~11 s),
# but several times that on a shared, busy CPU: room beyond the suite's default 900 s.
BUSY_MACHINE_TIMEOUT = 2400


def _gate(baseline: str, *flags: str) -> int:
    return main(["eval", "--baseline", str(BASELINES / baseline), *flags])


def test_seeds_retrieval_gate_passes(capsys):
    assert _gate("seeds-retrieval.json") == 0
    assert "gate passed" in capsys.readouterr().out


def test_top_k_1_fails_the_seeds_retrieval_gate(capsys):
    assert _gate("seeds-retrieval.json", "--top-k", "1") == GATE_FAILED
    message = capsys.readouterr().err
    assert "REGRESSION" in message
    assert "recall@5 dropped from" in message and "hit@5 dropped from" in message


@pytest.mark.skipif(not ARCD_FILE.is_file(), reason=f"ARCD not found at {ARCD_FILE}; set RAG_ARCD_FILE")
@pytest.mark.timeout(BUSY_MACHINE_TIMEOUT)
def test_arcd_retrieval_gate_passes(capsys):
    assert _gate("arcd-retrieval.json") == 0
    assert "arcd / retrieval: 702 questions, 0 errors" in capsys.readouterr().out


@pytest.mark.timeout(BUSY_MACHINE_TIMEOUT)
def test_answer_subset_gate_passes(rag_home, capsys):
    assert _gate("seeds-answers-subset.json") == 0
    out = capsys.readouterr().out
    assert "gate passed" in out
    baseline = json.loads((BASELINES / "seeds-answers-subset.json").read_text(encoding="utf-8"))
    record = json.loads((sorted((rag_home / "runs").iterdir())[-1] / "run.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in record["results"]) == sorted(baseline["ids"])
    assert not [r["error"] for r in record["results"] if r["error"]]


def test_a_baseline_for_another_selection_is_refused(capsys):
    assert _gate("seeds-retrieval.json", "--limit", "3") == 1
    assert "another question selection" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["seeds-retrieval.json", "arcd-retrieval.json", "seeds-answers-subset.json"])
def test_committed_baselines_are_well_formed(name):
    baseline = json.loads((BASELINES / name).read_text(encoding="utf-8"))
    assert baseline["tolerances"] and set(baseline["tolerances"]) <= set(baseline["metrics"])
    assert all(0 <= tolerance <= 0.1 for tolerance in baseline["tolerances"].values())


def test_a_suite_index_built_differently_is_rebuilt_not_refused(rag_home):
    from dataclasses import replace

    from rag.eval.runner import open_index
    from rag.settings import load_settings

    settings, _ = load_settings({"home": str(rag_home), "chunk_tokens": 120})
    open_index(settings, "seeds")
    pipeline, index = open_index(replace(settings, chunk_tokens=200), "seeds")
    assert index["ingest"].startswith("5 added") and index["articles"] == 5
    assert pipeline.store.lexical.ids() == pipeline.store._chroma_ids()
