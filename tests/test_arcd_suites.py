"""The two ARCD suites: `arcd` asks every question of all 234 paragraphs; `arcd-absent` asks
questions whose own article is not in its index at all, so the right reply is to decline."""
from __future__ import annotations

import json

import pytest

from conftest import ARCD_FILE
from rag.eval import gold


def _tiny_arcd(path):
    def article(title, questions):
        return {
            "title": title,
            "paragraphs": [
                {"context": f"{title}: فقرة {p}.", "qas": [{"id": f"{title}-{p}-{q}", "question": f"سؤال {q} عن {title}؟",
                                                           "answers": [{"text": title, "answer_start": 0}]} for q in range(questions)]}
                for p in range(2)
            ],
        }

    path.write_text(json.dumps({"data": [article(f"a{i}", 2) for i in range(4)]}, ensure_ascii=False), encoding="utf-8")
    return path


def test_arcd_absent_indexes_even_articles_and_asks_the_odd_ones(tmp_path):
    path = _tiny_arcd(tmp_path / "arcd.json")
    folder = tmp_path / "corpus"
    folder.mkdir()
    assert gold.write_arcd_corpus(path, folder, "indexed") == 4
    indexed = {f.stem for f in folder.iterdir()}
    assert indexed == {"arcd-0-0", "arcd-0-1", "arcd-2-0", "arcd-2-1"}

    items = gold.load_arcd_absent(path)
    assert [item.id for item in items] == ["a1-0-0", "a1-1-0", "a3-0-0", "a3-1-0"]  # first question of each paragraph
    assert all(not item.answerable and item.type == "absent" for item in items)


def test_arcd_uses_every_paragraph(tmp_path):
    path = _tiny_arcd(tmp_path / "arcd.json")
    folder = tmp_path / "corpus"
    folder.mkdir()
    assert gold.write_arcd_corpus(path, folder) == 8
    assert len(gold.load_arcd(path)) == 16


@pytest.mark.skipif(not ARCD_FILE.is_file(), reason=f"ARCD not found at {ARCD_FILE}; set RAG_ARCD_FILE")
def test_the_real_arcd_absent_suite_has_over_a_hundred_questions_none_from_an_indexed_article():
    items = gold.load_suite("arcd-absent", ARCD_FILE)
    assert len(items) >= 100
    questions = {qa["id"]: a for a, article in enumerate(json.loads(ARCD_FILE.read_text(encoding="utf-8"))["data"])
                 for paragraph in article["paragraphs"] for qa in paragraph["qas"]}
    assert all(questions[item.id] % 2 == 1 for item in items)
