"""Same config, same model: the same answers (temperature 0, fixed seed), run to run."""
from __future__ import annotations

import json

import pytest

from rag.cli import main

IDS = "num-06,en-04"  # one Arabic, one English question


@pytest.mark.timeout(1800)  # 4 answers: about a minute when the machine is idle
def test_two_runs_give_the_same_answers(rag_home):
    assert main(["eval", "--ids", IDS]) == 0
    assert main(["eval", "--ids", IDS]) == 0
    first, second = (
        json.loads((folder / "run.json").read_text(encoding="utf-8"))["results"]
        for folder in sorted((rag_home / "runs").iterdir())
    )
    assert [r["error"] for r in first + second] == [None] * 4
    assert [r["answer"] for r in first] == [r["answer"] for r in second]
    assert [r["raw_output"] for r in first] == [r["raw_output"] for r in second]
    assert [r["sentences"] for r in first] == [r["sentences"] for r in second]
