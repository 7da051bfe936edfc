"""Sanity checks for the hand-written gold question set (eval/gold/seeds.jsonl).

The gold set is data, not code, so these tests guard its *shape* and its
*groundedness*: every evidence quote must be a verbatim substring of the
article it cites, every gold article must exist, every numeric fact must carry
digits, and every reference answer must itself satisfy its required facts.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rag.eval.gold_check import item_problems, source_articles

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "eval" / "gold" / "seeds.jsonl"

MIN_ITEMS = 60
MIN_PER_TYPE = {
    "numeric": 12,
    "date": 5,
    "entity": 10,
    "multi_fact": 5,
    "disagree": 6,
    "unanswerable": 8,
    "followup": 6,
    "english": 10,
}
MIN_ARABIC_NON_ENGLISH = 50


def _load_items() -> list[dict]:
    items = []
    with GOLD.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:  # pragma: no cover - reported by test
                pytest.fail(f"{GOLD.name}:{lineno}: invalid JSON: {e}")
    return items


ITEMS = _load_items() if GOLD.exists() else []
ARTICLES = source_articles(SEEDS)


def _ids(items):
    return [it.get("id", f"#{i}") for i, it in enumerate(items)]


# ------------------------------------------------------------------ file-level


def test_file_exists_and_parses():
    assert GOLD.exists(), f"missing {GOLD}"
    assert ITEMS, "gold set is empty"
    assert all(isinstance(it, dict) for it in ITEMS)


def test_file_is_utf8_not_ascii_escaped():
    text = GOLD.read_text(encoding="utf-8")
    assert "\\u06" not in text, "write with ensure_ascii=False"


def test_enough_items():
    assert len(ITEMS) >= MIN_ITEMS, len(ITEMS)


def test_minimum_count_per_type():
    counts = Counter(it["type"] for it in ITEMS)
    short = {t: (counts.get(t, 0), n) for t, n in MIN_PER_TYPE.items() if counts.get(t, 0) < n}
    assert not short, f"type: (have, need) -> {short}"


def test_enough_arabic_questions():
    n = sum(1 for it in ITEMS if it["type"] != "english" and it["language"] == "ar")
    assert n >= MIN_ARABIC_NON_ENGLISH, n


def test_unique_ids():
    dup = [i for i, c in Counter(it["id"] for it in ITEMS).items() if c > 1]
    assert not dup, dup


def test_seed_articles_present():
    assert len(ARTICLES) == 5, sorted(ARTICLES)


# ------------------------------------------------------------------- per item


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_item_is_valid_and_grounded_in_the_seeds(item):
    assert item_problems(item, ARTICLES) == []


# ------------------------------------------- the checker finds each kind of flaw

VALID = {
    "id": "num-x",
    "question": "كم عدد الجنود الكوريين الشماليين الذين أرسلوا إلى روسيا؟",
    "language": "ar",
    "type": "numeric",
    "reference_answer": "نحو 4000 جندي.",
    "required_facts": [["4000", "4,000"]],
    "gold_articles": ["003_0b40211500770580"],
    "evidence": [{"article": "003_0b40211500770580", "quote": "فقد قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك حتى الآن"}],
}


def test_a_well_formed_item_has_no_problems():
    assert item_problems(VALID, ARTICLES) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"type": "trivia"}, "type 'trivia'"),
        ({"question": "How many troops?"}, "Arabic question without Arabic script"),
        ({"reference_answer": "نحو أربعة آلاف."}, "does not contain every required fact"),
        ({"required_facts": [["أربعة آلاف"]], "reference_answer": "أربعة آلاف"}, "has no digits"),
        ({"gold_articles": ["999_missing"]}, "not among the articles"),
        ({"evidence": [{"article": "003_0b40211500770580", "quote": "جملة لم تكتب في المقال"}]}, "not verbatim"),
        ({"type": "unanswerable"}, "unanswerable item has no facts"),
        ({"type": "followup"}, "needs its history"),
        ({"type": "disagree"}, "two facts from two articles"),
    ],
)
def test_the_checker_reports_each_kind_of_flaw(change, problem):
    problems = item_problems({**VALID, **change}, ARTICLES)
    assert any(problem in p for p in problems), problems
