"""The answer log: every answer kept in SQLite under RAG_HOME, browsed with `rag logs`,
rated, and promoted into a gold item the gold-set test accepts."""
import hashlib
import io
import json
import shutil
import threading
from contextlib import redirect_stdout
from dataclasses import replace

import pytest

from rag.answer_log import AnswerLog, model_sha256
from rag.backends.gguf import MODEL_SHA256
from rag.cli import main
from rag.eval.gold_check import item_problems, source_articles
from rag.eval.promote import draft_item, promote, spellings
from rag.logs_cli import parse_since
from rag.settings import load_settings

from conftest import SEEDS

QUESTION = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"


@pytest.fixture
def pipeline(ollama_pipeline):
    return ollama_pipeline


def _reply_citing(pipeline, fake_ollama, needle):
    """Script the fake model to state the passage holding `needle`, citing it."""
    from rag.passages import select_passages

    vector = pipeline.embedder.embed_queries([QUESTION])[0]
    passages = select_passages(QUESTION, vector, pipeline.retrieve(QUESTION), pipeline.sentence_vectors,
                               pipeline.settings.context_tokens)
    passage = next(p for p in passages if needle in p.text)
    fake_ollama.reply_with(json.dumps({"found": True, "sentences": [{"text": passage.text, "passages": [passage.number]}]},
                                      ensure_ascii=False))


@pytest.fixture
def answer(pipeline, fake_ollama):
    _reply_citing(pipeline, fake_ollama, "4,000")
    return pipeline.ask(QUESTION)


def test_a_logged_answer_comes_back_whole(pipeline, answer):
    log = AnswerLog(pipeline.settings)
    answer_id = log.record(answer, session="s1", source="chat", model_sha256="abc")
    logged = log.get(answer_id)

    assert logged.answer == answer  # passages, verdicts with reasons, withheld, raw output, timings, tokens
    assert logged.answer.sentences[0].citations[0].reason
    assert logged.answer.raw_output == answer.raw_output != ""
    assert (logged.session, logged.source, logged.model_sha256) == ("s1", "chat", "abc")
    assert logged.settings["backend"] == "ollama" and logged.rating is None


def test_logging_off_keeps_nothing(pipeline, answer):
    settings = replace(pipeline.settings, log="off")
    log = AnswerLog(settings)
    assert log.record(answer, session="s", source="cli") is None
    assert not log.path.exists()


def test_ratings_and_comments_are_columns_of_the_answer(pipeline, answer):
    log = AnswerLog(pipeline.settings)
    first = log.record(answer, session="s", source="chat")
    second = log.record(answer, session="s", source="chat")
    log.rate(first, "down", "the figure is from another article")
    log.rate(second, "up")
    log.rate(second, None)  # a second click on the same thumb takes the rating back

    downs = log.recent(rating="down")
    assert [(e.id, e.comment) for e in downs] == [(first, "the figure is from another article")]
    assert log.get(second).rating is None
    with pytest.raises(Exception, match="No logged answer 999"):
        log.rate(999, "up")


def test_answers_from_several_threads_are_all_kept(pipeline, answer):
    log = AnswerLog(pipeline.settings)
    threads = [threading.Thread(target=lambda: [log.record(answer, session="t", source="api") for _ in range(10)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.recent(limit=100)) == 40


def test_since_reads_dates_and_spans():
    now = 1_800_000_000.0
    assert parse_since("2h", now) == now - 7200
    assert parse_since("3d", now) == now - 3 * 86400
    assert parse_since("2026-11-26") < parse_since("2026-11-26T14:00")
    with pytest.raises(Exception, match="give a date"):
        parse_since("yesterday")


def test_the_model_hash_is_the_bundled_files_or_the_configured_files(tmp_path):
    settings, _ = load_settings({"home": str(tmp_path)})
    assert model_sha256(settings) == MODEL_SHA256
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    settings, _ = load_settings({"home": str(tmp_path), "gguf_path": str(gguf)})
    assert model_sha256(settings) == hashlib.sha256(gguf.read_bytes()).hexdigest()
    before = model_sha256(settings)
    gguf.write_bytes(b"GGUF" + b"\1" * 61)  # a replaced file is hashed again
    assert model_sha256(settings) != before


def _run(*argv) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_rag_ask_logs_its_answer_and_rag_logs_lists_and_shows_it(tmp_path, fake_ollama, seeded_pipeline, pipeline):
    home = tmp_path / "copy"
    shutil.copytree(seeded_pipeline.settings.home, home)
    _reply_citing(pipeline, fake_ollama, "4,000")
    flags = ["--home", str(home), "--backend", "ollama", "--ollama-host", fake_ollama.host]
    _run("ask", QUESTION, *flags)

    listing = _run("logs", *flags)
    assert "    1  " in listing and "كم عدد الجنود" in listing and "4,000" in listing
    shown = _run("logs", "show", "1", *flags)
    assert "Question: " + QUESTION in shown and "✓" in shown and "Sources:" in shown
    rows = [json.loads(line) for line in _run("logs", "--json", *flags).splitlines()]
    assert rows[0]["source"] == "cli" and rows[0]["answer"]["passages"]
    assert _run("logs", "--since", "1h", *flags) == listing
    assert "No logged answers match." in _run("logs", "--rating", "down", *flags)


def test_a_figure_is_offered_in_every_spelling():
    assert spellings("4,000") == ["4,000", "4000", "٤٠٠٠"]
    assert spellings("4 آلاف") == ["4 آلاف", "4000", "4,000", "٤٠٠٠"]


def test_promote_drafts_the_item_from_the_answer(pipeline, answer):
    log = AnswerLog(pipeline.settings)
    draft = draft_item(log.get(log.record(answer, session="s", source="chat")))
    assert draft["type"] == "numeric" and draft["language"] == "ar"
    assert ["4,000", "4000", "٤٠٠٠"] in draft["required_facts"]
    assert draft["gold_articles"] == [e["article"] for e in draft["evidence"]] != []


def test_promote_writes_an_item_the_gold_set_test_accepts(tmp_path, pipeline, answer):
    log = AnswerLog(pipeline.settings)
    logged = log.get(log.record(answer, session="s", source="chat"))
    gold = tmp_path / "gold.jsonl"
    typed = iter(["num-99", "", "", "", "", ""])  # a new id, then Enter on every other field
    said = []
    item = promote(logged, gold, source_articles(SEEDS), ask=lambda prompt: next(typed), say=said.append)

    assert json.loads(gold.read_text(encoding="utf-8")) == item
    assert item["id"] == "num-99"
    assert item_problems(item, source_articles(SEEDS)) == []
    assert said[-1].startswith("Added num-99")


def test_promote_asks_again_until_the_item_is_valid_and_can_be_abandoned(tmp_path, pipeline, answer):
    log = AnswerLog(pipeline.settings)
    logged = log.get(log.record(answer, session="s", source="chat"))
    gold = tmp_path / "gold.jsonl"
    # A reference answer without the figure fails the gold check; the user then gives up.
    typed = iter(["num-98", "", "", "نحو أربعة آلاف جندي.", "", "", "n"])
    said = []
    with pytest.raises(Exception, match="Nothing was written"):
        promote(logged, gold, source_articles(SEEDS), ask=lambda prompt: next(typed), say=said.append)
    assert any("does not contain every required fact" in line for line in said)
    assert not gold.exists()
