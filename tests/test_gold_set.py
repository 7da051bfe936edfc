"""Sanity checks for the hand-written gold question set (eval/gold/seeds.jsonl).

The gold set is data, not code, so these tests guard its *shape* and its
*groundedness*: every evidence quote must be a verbatim substring of the
article it cites, every gold article must exist, every numeric fact must carry
digits, and every reference answer must itself satisfy its required facts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

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
TYPES = set(MIN_PER_TYPE)
LANGUAGES = {"ar", "en"}
REQUIRED_FIELDS = {
    "id": str,
    "question": str,
    "language": str,
    "type": str,
    "reference_answer": str,
    "required_facts": list,
    "gold_articles": list,
    "evidence": list,
}

# Site chrome in the seed files that is not article content (see 001 and 002).
BOILERPLATE_LINES = {
    "الأخبار العالمية",
    "د. إيمان بشير. ابوكبدة",
    "مقالات ذات صلة",
    "اترك تعليقاً",
    "زر الذهاب إلى الأعلى",
}
BOILERPLATE_PREFIXES = (
    "لن يتم نشر عنوان بريدك الإلكتروني",
    "اقرأ أيضا",
)

ARABIC_RE = re.compile(r"[\u0600-\u06FF]")
DIGIT_RE = re.compile(r"\d")  # Unicode-aware: also matches Arabic-Indic digits


# --------------------------------------------------------------------- helpers


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


def _raw_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def _is_boilerplate(line: str) -> bool:
    s = line.strip()
    return s in BOILERPLATE_LINES or s.startswith(BOILERPLATE_PREFIXES)


def _body_text(raw: str) -> str:
    """Article text without site chrome and without the headline line."""
    lines = [ln for ln in raw.splitlines() if not _is_boilerplate(ln)]
    for i, ln in enumerate(lines):
        if ln.strip():  # first non-empty, non-boilerplate line is the headline
            del lines[i]
            break
    return "\n".join(lines)


def _norm(s: str) -> str:
    return " ".join(s.casefold().split())


def _satisfies(answer: str, facts: list[list[str]]) -> bool:
    a = _norm(answer)
    return all(any(_norm(alt) in a for alt in fact) for fact in facts)


def _as_text(obj) -> str:
    """Best-effort text from whatever rag.load / rag.clean return."""
    if isinstance(obj, str):
        return obj
    parts = []
    for key in ("headline", "title", "body", "text", "content"):
        val = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
        if isinstance(val, str):
            parts.append(val)
    if not parts:
        pytest.fail(f"cannot extract text from {type(obj).__name__}")
    return "\n".join(parts)


ITEMS = _load_items() if GOLD.exists() else []
RAW = _raw_texts()


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
    assert len(RAW) == 5, sorted(RAW)


# ------------------------------------------------------------------- per item


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_fields_and_types(item):
    for field, typ in REQUIRED_FIELDS.items():
        assert field in item, f"missing {field}"
        assert isinstance(item[field], typ), f"{field} should be {typ.__name__}"
    for field in ("id", "question", "reference_answer"):
        assert item[field].strip(), f"empty {field}"
    assert item["type"] in TYPES, item["type"]
    assert item["language"] in LANGUAGES, item["language"]

    for fact in item["required_facts"]:
        assert isinstance(fact, list) and fact, f"fact must be a non-empty list: {fact!r}"
        assert all(isinstance(a, str) and a.strip() for a in fact), fact
    assert all(isinstance(a, str) for a in item["gold_articles"])
    assert len(set(item["gold_articles"])) == len(item["gold_articles"]), "duplicate gold article"
    for ev in item["evidence"]:
        assert isinstance(ev, dict) and set(ev) == {"article", "quote"}, ev
        assert isinstance(ev["article"], str) and isinstance(ev["quote"], str), ev
        assert ev["quote"].strip(), ev

    if item["type"] == "followup":
        assert "history" in item, "followup needs history"
    if "history" in item:
        hist = item["history"]
        assert isinstance(hist, list) and hist, "history must be a non-empty list"
        for turn in hist:
            assert isinstance(turn, dict) and set(turn) == {"role", "content"}, turn
            assert turn["role"] in {"user", "assistant"}, turn
            assert isinstance(turn["content"], str) and turn["content"].strip(), turn
        assert hist[0]["role"] == "user" and hist[-1]["role"] == "assistant"


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_language_matches_text(item):
    q = item["question"]
    if item["language"] == "ar":
        assert ARABIC_RE.search(q), "Arabic question without Arabic script"
    else:
        assert not ARABIC_RE.search(q), "English question contains Arabic script"
        assert not ARABIC_RE.search(item["reference_answer"]), "English answer contains Arabic"
    if item["type"] == "english":
        assert item["language"] == "en"
        for fact in item["required_facts"]:
            assert not any(ARABIC_RE.search(a) for a in fact), fact


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_gold_articles_are_real(item):
    unknown = [a for a in item["gold_articles"] if a not in RAW]
    assert not unknown, unknown


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_answerability_consistent(item):
    if item["type"] == "unanswerable":
        assert item["required_facts"] == []
        assert item["gold_articles"] == []
        assert item["evidence"] == []
        return
    assert item["required_facts"], "answerable item needs required facts"
    assert item["gold_articles"], "answerable item needs gold articles"
    assert item["evidence"], "answerable item needs evidence"
    cited = {ev["article"] for ev in item["evidence"]}
    assert cited <= set(item["gold_articles"]), f"evidence from non-gold article: {cited - set(item['gold_articles'])}"


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_evidence_verbatim_in_raw_article(item):
    for ev in item["evidence"]:
        assert ev["article"] in RAW, f"unknown article {ev['article']}"
        raw = RAW[ev["article"]]
        assert ev["quote"] in raw, f"quote not verbatim in {ev['article']}: {ev['quote']!r}"
        assert ev["quote"] in _body_text(raw), f"quote is from headline/boilerplate: {ev['quote']!r}"


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_numeric_facts_have_digits(item):
    if item["type"] != "numeric":
        return
    for fact in item["required_facts"]:
        assert any(DIGIT_RE.search(a) for a in fact), f"numeric fact without digits: {fact}"


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_disagree_items_list_several_figures(item):
    if item["type"] != "disagree":
        return
    assert len(item["required_facts"]) >= 2
    assert len(item["gold_articles"]) >= 2
    assert len({ev["article"] for ev in item["evidence"]}) >= 2


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_reference_answer_satisfies_required_facts(item):
    assert _satisfies(item["reference_answer"], item["required_facts"]), (
        f"reference answer misses a required fact: {item['reference_answer']!r} vs {item['required_facts']}"
    )


@pytest.mark.parametrize("item", ITEMS, ids=_ids(ITEMS))
def test_question_is_not_copied_from_article(item):
    q = item["question"].strip().rstrip("؟?").strip()
    for stem, raw in RAW.items():
        assert q not in raw, f"question copied verbatim from {stem}"


# --------------------------------------------------- optional: cleaned articles


def _cleaned_texts() -> dict[str, str]:
    clean = pytest.importorskip("rag.clean")
    load = pytest.importorskip("rag.load")
    if not hasattr(clean, "clean_article") or not hasattr(load, "read_article"):
        pytest.skip("rag.clean.clean_article / rag.load.read_article not available")
    return {
        p.stem: _as_text(clean.clean_article(load.read_article(p)))
        for p in sorted(SEEDS.glob("*.txt"))
    }


def test_evidence_verbatim_in_cleaned_article():
    cleaned = _cleaned_texts()
    missing = [
        (it["id"], ev["article"], ev["quote"])
        for it in ITEMS
        for ev in it["evidence"]
        if ev["quote"] not in cleaned.get(ev["article"], "")
    ]
    assert not missing, f"{len(missing)} quote(s) not in cleaned text, e.g. {missing[:3]}"
