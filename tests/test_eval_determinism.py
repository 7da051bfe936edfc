"""Same config, same model: the same answers (temperature 0, fixed seed), run to run."""
from __future__ import annotations

import pytest

from rag.cli import main
from rag.eval import records

IDS = "num-06,en-04"  # one Arabic, one English question


@pytest.mark.timeout(1800)  # 4 answers: about a minute when the machine is idle
def test_two_runs_give_the_same_answers(rag_home):
    assert main(["eval", "--ids", IDS]) == 0
    assert main(["eval", "--ids", IDS]) == 0
    first, second = (records.load_run(folder).results for folder in records.run_folders(rag_home / "runs"))
    assert [r["error"] for r in first + second] == [None] * 4
    for field in ("text", "raw_output", "sentences"):
        assert [r["answer"][field] for r in first] == [r["answer"][field] for r in second]
