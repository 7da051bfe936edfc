"""What makes a seeds gold item valid: the gold-set test and `rag logs promote` both ask here.

The gold set is data, so it is checked for its shape and its groundedness: every evidence
quote is verbatim in the body of the article it cites (not its headline), every gold
article exists, numeric facts carry digits, and the reference answer itself satisfies the
required facts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.arabic import collapse_whitespace

TYPES = ("numeric", "date", "entity", "multi_fact", "disagree", "unanswerable", "followup", "english")
LANGUAGES = ("ar", "en")
FIELDS = {
    "id": str,
    "question": str,
    "language": str,
    "type": str,
    "reference_answer": str,
    "required_facts": list,
    "gold_articles": list,
    "evidence": list,
}
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_DIGIT = re.compile(r"\d")  # Arabic-Indic digits too


@dataclass(frozen=True)
class SourceArticle:
    raw: str  # the file as written
    body: str  # the cleaned text without its headline line: where evidence must come from


def source_articles(folder: Path) -> dict[str, SourceArticle]:
    """The articles a gold set may cite, by id, as the pipeline cleans them."""
    from rag.clean import clean_article
    from rag.load import find_article_files, read_article

    articles = {}
    for path in find_article_files([folder]):
        cleaned = clean_article(read_article(path))
        articles[path.stem] = SourceArticle(path.read_text(encoding="utf-8"), cleaned.text.partition("\n")[2])
    return articles


def satisfies(answer: str, facts: list[list[str]]) -> bool:
    """Every fact has one of its alternatives in the answer (case and spacing ignored)."""
    text = _plain(answer)
    return all(any(_plain(alternative) in text for alternative in fact) for fact in facts)


def _plain(text: str) -> str:
    return collapse_whitespace(text.casefold())


def item_problems(item: dict, articles: dict[str, SourceArticle]) -> list[str]:
    """Everything wrong with one gold item; empty when it is valid."""
    problems = [f"{name} is missing or not a {kind.__name__}" for name, kind in FIELDS.items()
                if not isinstance(item.get(name), kind)]
    if problems:
        return problems
    for name in ("id", "question", "reference_answer"):
        if not item[name].strip():
            problems.append(f"{name} is empty")
    if item["type"] not in TYPES:
        problems.append(f"type {item['type']!r} is not one of {', '.join(TYPES)}")
    if item["language"] not in LANGUAGES:
        problems.append(f"language {item['language']!r} is not one of {', '.join(LANGUAGES)}")
    problems += _fact_problems(item) + _evidence_problems(item, articles) + _history_problems(item)
    problems += _language_problems(item)
    if item["required_facts"] and not satisfies(item["reference_answer"], item["required_facts"]):
        problems.append("the reference answer does not contain every required fact")
    question = item["question"].strip().rstrip("؟?").strip()
    copied = [article_id for article_id, article in articles.items() if question and question in article.raw]
    if copied:
        problems.append(f"the question is copied verbatim from {copied[0]}")
    return problems


def _fact_problems(item: dict) -> list[str]:
    problems = []
    for fact in item["required_facts"]:
        if not isinstance(fact, list) or not fact or not all(isinstance(a, str) and a.strip() for a in fact):
            problems.append(f"fact {fact!r} must be a non-empty list of alternatives")
        elif item["type"] == "numeric" and not any(_DIGIT.search(a) for a in fact):
            problems.append(f"numeric fact {fact!r} has no digits")
    return problems


def _evidence_problems(item: dict, articles: dict[str, SourceArticle]) -> list[str]:
    problems = []
    gold = item["gold_articles"]
    if not all(isinstance(a, str) for a in gold) or len(set(gold)) != len(gold):
        problems.append("gold_articles must be distinct article ids")
    problems += [f"gold article {a!r} is not among the articles" for a in gold if a not in articles]
    if item["type"] == "unanswerable":
        if item["required_facts"] or gold or item["evidence"]:
            problems.append("an unanswerable item has no facts, gold articles or evidence")
        return problems
    if not (item["required_facts"] and gold and item["evidence"]):
        problems.append("an answerable item needs required facts, gold articles and evidence")
    for evidence in item["evidence"]:
        if not isinstance(evidence, dict) or set(evidence) != {"article", "quote"} or not str(evidence.get("quote", "")).strip():
            problems.append(f"evidence {evidence!r} must be {{article, quote}} with a quote")
            continue
        if evidence["article"] not in gold:
            problems.append(f"evidence from {evidence['article']!r}, which is not a gold article")
        article = articles.get(evidence["article"])
        if article is not None and not (evidence["quote"] in article.raw and evidence["quote"] in article.body):
            problems.append(f"quote not verbatim in the body of {evidence['article']}: {evidence['quote']!r}")
    if item["type"] == "disagree" and (
        len(item["required_facts"]) < 2 or len(gold) < 2 or len({e.get("article") for e in item["evidence"]}) < 2
    ):
        problems.append("a disagreement item needs two facts from two articles")
    return problems


def _history_problems(item: dict) -> list[str]:
    if item["type"] == "followup" and "history" not in item:
        return ["a followup item needs its history"]
    if "history" not in item:
        return []
    turns = item["history"]
    if not isinstance(turns, list) or not turns:
        return ["history must be a non-empty list"]
    if not all(isinstance(t, dict) and set(t) == {"role", "content"} and t["role"] in ("user", "assistant")
               and isinstance(t["content"], str) and t["content"].strip() for t in turns):
        return ["history turns are {role: user|assistant, content}"]
    if turns[0]["role"] != "user" or turns[-1]["role"] != "assistant":
        return ["history starts with the user and ends with the assistant"]
    return []


def _language_problems(item: dict) -> list[str]:
    question, problems = item["question"], []
    if item["language"] == "ar" and not _ARABIC.search(question):
        problems.append("an Arabic question without Arabic script")
    if item["language"] == "en":
        if _ARABIC.search(question) or _ARABIC.search(item["reference_answer"]):
            problems.append("an English item with Arabic script in its question or reference answer")
    if item["type"] == "english":
        if item["language"] != "en":
            problems.append("an english item must be in English")
        if any(_ARABIC.search(a) for fact in item["required_facts"] for a in fact if isinstance(a, str)):
            problems.append("an english item's facts must be in English")
    return problems
