"""`rag logs promote ID`: a logged answer becomes a gold item, after the user confirms or edits it.

The draft comes from the answer itself: its figures become the required facts (with their
other spellings: 4,000 = 4000 = ٤٠٠٠), the articles its checked sentences cite become the
gold articles, and the cited passages the evidence. The item is appended to the gold file
only once `gold_check.item_problems` finds nothing wrong with it, the same check the
gold-set test makes.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from rag.answer_log import LoggedAnswer
from rag.arabic import extract_numbers, plain_number
from rag.draft import without_rendered_markers
from rag.errors import InputError
from rag.eval.gold_check import TYPES, SourceArticle, item_problems
from rag.question import COUNT, DATE, PERSON, PLACE, analyse
from rag.types import SUPPORTED

# A figure as written, with the word that multiplies it: "4 آلاف", "12,000", "١٤٬٠٠٠".
_FIGURE = re.compile(r"\d[\d,٬.]*(?:\s+(?:ألف|آلاف|الف|الاف|مليون|ملايين|مليار|thousand|million|billion)\b)?")
_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_TYPE_OF_ASK = {COUNT: "numeric", DATE: "date", PERSON: "entity", PLACE: "entity"}


def draft_item(logged: LoggedAnswer) -> dict:
    """The gold item a logged answer suggests."""
    answer = logged.answer
    supported = [s for s in answer.sentences if s.verdict == SUPPORTED]
    cited = {c.passage for s in supported for c in s.citations if c.supported}
    passages = [p for p in answer.passages if p.number in cited]
    question = answer.standalone_question or answer.question
    if answer.abstained:
        kind = "unanswerable"
    elif answer.language == "en":
        kind = "english"
    else:
        kind = _TYPE_OF_ASK.get(analyse(question).asks, "multi_fact")
    answerable = kind != "unanswerable"
    return {
        "id": f"log-{logged.id}",
        "question": question,
        "language": answer.language,
        "type": kind,
        "reference_answer": without_rendered_markers(answer.text).strip(),
        "required_facts": [spellings(f) for s in supported for f in _FIGURE.findall(s.text)] if answerable else [],
        "gold_articles": list(dict.fromkeys(p.article_id for p in passages)) if answerable else [],
        "evidence": [{"article": p.article_id, "quote": p.text} for p in passages] if answerable else [],
    }


def spellings(figure: str) -> list[str]:
    """A figure as written and its other spellings: "4 آلاف" -> 4 آلاف, 4000, 4,000, ٤٠٠٠."""
    values = extract_numbers(figure)
    if not values:
        return [figure]
    value = values[0]
    plain = plain_number(value)
    grouped = f"{value:,.0f}" if value == int(value) else plain
    return list(dict.fromkeys([figure.strip(), plain, grouped, plain.translate(_INDIC)]))


def confirm(item: dict, ask: Callable[[str], str], say: Callable[[str], None]) -> dict:
    """Show each field with its suggested value; Enter keeps it, anything else replaces it."""
    say("Enter keeps the value in brackets; type a new one to replace it.")
    edited = dict(item)
    for name in ("id", "question", "type", "reference_answer"):
        hint = f" ({' | '.join(TYPES)})" if name == "type" else ""
        edited[name] = ask(f"{name}{hint} [{edited[name]}]: ").strip() or edited[name]
    facts = " ; ".join(" | ".join(fact) for fact in edited["required_facts"])
    typed = ask(f"required_facts, alternatives split by |, facts by ; [{facts}]: ").strip()
    if typed:
        edited["required_facts"] = [[a.strip() for a in fact.split("|") if a.strip()] for fact in typed.split(";") if fact.strip()]
    articles = ", ".join(edited["gold_articles"])
    typed = ask(f"gold_articles, comma-separated [{articles}]: ").strip()
    if typed:
        chosen = [a.strip() for a in typed.split(",") if a.strip()]
        edited["gold_articles"] = chosen
        edited["evidence"] = [e for e in edited["evidence"] if e["article"] in chosen]
    if edited["type"] == "unanswerable":
        edited["required_facts"], edited["gold_articles"], edited["evidence"] = [], [], []
    return edited


def promote(
    logged: LoggedAnswer,
    gold_file: Path,
    articles: dict[str, SourceArticle],
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
) -> dict:
    """Draft, confirm and validate a gold item from `logged`, then append it to `gold_file`."""
    item = draft_item(logged)
    while True:
        item = confirm(item, ask, say)
        problems = add_to_gold(item, gold_file, articles)
        if not problems:
            say(f"Added {item['id']} to {gold_file}.")
            return item
        say("The item is not valid yet:\n" + "\n".join(f"  - {p}" for p in problems))
        if ask("Edit it again? [Y/n]: ").strip().lower() in ("n", "no"):
            raise InputError(f"Nothing was written to {gold_file}.")


def add_to_gold(item: dict, gold_file: Path, articles: dict[str, SourceArticle]) -> list[str]:
    """Append `item` to `gold_file` if the gold check finds nothing wrong; else what is wrong."""
    problems = item_problems(item, articles)
    if item.get("id") in _ids(gold_file):
        problems.append(f"the id {item['id']!r} is already in {gold_file.name}")
    if not problems:
        with gold_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    return problems


def _ids(gold_file: Path) -> set[str]:
    if not gold_file.exists():
        return set()
    return {json.loads(line)["id"] for line in gold_file.read_text(encoding="utf-8").splitlines() if line.strip()}
