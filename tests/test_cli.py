"""The command line: one clear message and a non-zero exit for every user error, never a traceback."""
import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT, SEEDS

RAG = [sys.executable, "-m", "rag.cli"]


def run(*args, env=None, cwd=ROOT):
    return subprocess.run([*RAG, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["ask", "سؤال", "--backend", "gpt"], {}, "Unknown backend 'gpt'. Choose one of: embedded, ollama"),
        (["ask", "   "], {}, "The question is empty"),
        (["ask", "س" * 1200], {}, "the limit is 1000"),
        (["ask", "كم عدد الجنود؟"], {}, "The index is empty. Add articles first: `rag ingest seeds/`"),
        (["ingest", "no/such/folder"], {}, "does not exist"),
        (["remove", "nope"], {}, "No article 'nope' in the index"),
        (["bench", "peer"], {}, "The index is empty. Run `rag ingest seeds/` first"),
    ],
)
def test_user_errors_are_one_clear_line(args, env, message):
    result = run(*args, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_answer_cut_short_by_max_answer_tokens_says_how_to_get_the_rest(fake_ollama):
    assert run("ingest", str(SEEDS)).returncode == 0
    question = "كم عدد الجنود الذين أرسلتهم كوريا الشمالية؟"
    ollama = ["--backend", "ollama", "--ollama-host", fake_ollama.host]
    cut = run("ask", question, *ollama, "--max-answer-tokens", "3")
    assert cut.returncode == 0, cut.stderr
    assert "stopped mid-answer; raise max_answer_tokens (RAG_MAX_ANSWER_TOKENS)" in cut.stderr
    whole = run("ask", question, *ollama)
    assert whole.returncode == 0 and "max_answer_tokens" not in whole.stderr, whole.stderr


def test_ollama_not_running_says_how_to_start_it(tmp_path):
    ingest = run("ingest", str(SEEDS))
    assert ingest.returncode == 0, ingest.stderr
    result = run("ask", "كم عدد الجنود؟", "--backend", "ollama", "--ollama-host", f"http://127.0.0.1:{_closed_port()}")
    assert result.returncode == 1
    assert "Ollama is not running at" in result.stderr and "ollama serve" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_index_says_where_and_what_to_do(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    result = run("ingest", str(SEEDS), "--home", str(blocked))
    assert result.returncode == 1 and "RAG_HOME" in result.stderr and "Traceback" not in result.stderr


def test_rag_debug_shows_the_traceback():
    result = run("ask", "  ", env={"RAG_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_a_refused_file_leaves_the_index_as_it_was(tmp_path):
    assert run("ingest", str(SEEDS)).returncode == 0
    before = run("sources").stdout
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    result = run("ingest", str(bad))
    assert result.returncode == 1 and "binary" in result.stderr
    assert run("sources").stdout == before


def test_the_passages_being_read_are_one_line_by_article():
    from rag.terminal import reading_line
    from rag.types import Passage

    passages = [
        Passage(1, "a", "Troops deployed", "…", 0, 10, "c1"),
        Passage(2, "b", "Russia thanks the troops", "…", 0, 10, "c2"),
        Passage(3, "a", "Troops deployed", "…", 20, 30, "c3"),
    ]
    assert reading_line(passages) == "Reading: [1][3] Troops deployed · [2] Russia thanks the troops"


def test_sources_lists_the_articles_with_chunk_counts():
    assert run("ingest", str(SEEDS)).returncode == 0
    out = run("sources").stdout
    assert "5 articles" in out and "003_0b40211500770580" in out and "chunks" in out


@pytest.mark.slow
def test_ask_json_prints_the_whole_answer():
    assert run("ingest", str(SEEDS)).returncode == 0
    result = run("ask", "--json", "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"text", "sentences", "passages", "abstained", "timings", "usage"} <= set(answer)
    assert any(s["verdict"] == "supported" for s in answer["sentences"])
