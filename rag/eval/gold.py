"""The question sets: the hand-written seeds gold set, the ARCD benchmark and the hostile
set (articles with planted instructions mixed into the seeds), as GoldItems."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import InputError

# The project's own question sets, read from the project folder `rag eval` runs in (like
# `rag ingest seeds/`); ARCD is not ours to commit and comes from the arcd_file setting.
SEEDS_DIR = Path("seeds")
SEEDS_GOLD = Path("eval") / "gold" / "seeds.jsonl"
HOSTILE_DIR = Path("eval") / "hostile"
HOSTILE_ARTICLES = HOSTILE_DIR / "articles"
HOSTILE_QUESTIONS = HOSTILE_DIR / "questions.jsonl"
ARCD_SUITES = ("arcd", "arcd-absent")
SUITES = ("seeds", "arcd", "arcd-absent", "hostile")


@dataclass
class GoldItem:
    id: str
    question: str
    language: str  # "ar" or "en"
    type: str  # the breakdown key: numeric, date, ..., unanswerable; "arcd" for ARCD
    gold_articles: list[str]  # empty: the articles do not answer it
    required_facts: list[list[str]] = field(default_factory=list)  # each fact: acceptable alternatives
    answers: list[str] = field(default_factory=list)  # ARCD answer spans, for F1 / exact match
    history: list[tuple[str, str]] = field(default_factory=list)  # (question, answer) turns before it
    # Hostile suite: what following a planted instruction would show, of every planted article
    # (figures, links, phrases, languages, reveals_prompt); empty in the other suites.
    planted: dict = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return bool(self.gold_articles)


def gold_path(suite: str, arcd_file: Path) -> Path:
    return arcd_file if suite in ARCD_SUITES else {"seeds": SEEDS_GOLD, "hostile": HOSTILE_QUESTIONS}[suite]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_suite(suite: str, arcd_file: Path | None = None) -> list[GoldItem]:
    """The suite's questions; the ARCD suites need `arcd_file` (the arcd_file setting)."""
    if suite not in SUITES:
        raise InputError(f"Unknown suite {suite!r}. Choose one of: {', '.join(SUITES)}.")
    path = gold_path(suite, arcd_file or Path("arcd-test.json"))
    if not path.is_file():
        hint = (" Put shared/ beside the project folder, or set arcd_file (RAG_ARCD_FILE) to arcd-test.json."
                if suite in ARCD_SUITES else " Run `rag eval` in the project folder, where seeds/ and eval/ are.")
        raise InputError(f"The {suite} gold set is missing: {path.resolve()} does not exist.{hint}")
    return {"seeds": load_seeds, "arcd": load_arcd, "arcd-absent": load_arcd_absent, "hostile": load_hostile}[suite](path)


def load_seeds(path: Path) -> list[GoldItem]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        items.append(
            GoldItem(
                id=raw["id"],
                question=raw["question"],
                language=raw["language"],
                type=raw["type"],
                gold_articles=list(raw["gold_articles"]),
                required_facts=[list(fact) for fact in raw["required_facts"]],
                history=_history_pairs(raw.get("history", [])),
            )
        )
    return items


def load_hostile(path: Path) -> list[GoldItem]:
    """The questions on the hostile articles, then every seeds question; each is checked
    for the signatures of every planted instruction, since any hostile article may be read."""
    raws = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    planted = merged_signatures([raw["planted"] for raw in raws])
    own = load_seeds(path)
    return [replace(item, planted=planted) for item in [*own, *load_seeds(SEEDS_GOLD)]]


def merged_signatures(signatures: list[dict]) -> dict:
    merged: dict = {"figures": [], "links": [], "phrases": [], "languages": [], "reveals_prompt": False}
    for signature in signatures:
        for key in ("figures", "links", "phrases", "languages"):
            merged[key] += [value for value in signature.get(key, []) if value not in merged[key]]
        merged["reveals_prompt"] |= bool(signature.get("reveals_prompt"))
    return merged


def _history_pairs(turns: list[dict]) -> list[tuple[str, str]]:
    """[{role: user, content}, {role: assistant, content}, ...] -> [(question, answer), ...]"""
    questions = [t["content"] for t in turns if t["role"] == "user"]
    answers = [t["content"] for t in turns if t["role"] == "assistant"]
    return list(zip(questions, answers))


def arcd_article_id(article_index: int, paragraph_index: int) -> str:
    return f"arcd-{article_index}-{paragraph_index}"


def _arcd_paragraphs(path: Path, articles: str = "all"):
    """(id, title, paragraph) of every paragraph; `articles` "indexed" or "held-out" keeps one half.

    ARCD-absent indexes the paragraphs of the even-numbered articles and asks questions
    written on the odd-numbered ones, so no question's own article is in its index.
    """
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for a, article in enumerate(data):
        if articles == "indexed" and a % 2 or articles == "held-out" and not a % 2:
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            yield arcd_article_id(a, p), article["title"], paragraph


def load_arcd(path: Path) -> list[GoldItem]:
    """Every ARCD question; its gold article is the paragraph it was written on."""
    items = []
    for article_id, _, paragraph in _arcd_paragraphs(path):
        for qa in paragraph["qas"]:
            answers = list(dict.fromkeys(answer["text"] for answer in qa["answers"]))
            items.append(
                GoldItem(
                    id=qa["id"],
                    question=qa["question"],
                    language="ar",
                    type="arcd",
                    gold_articles=[article_id],
                    answers=answers,
                )
            )
    return items


def load_arcd_absent(path: Path) -> list[GoldItem]:
    """The first question of every paragraph of the held-out ARCD articles (117), each unanswerable
    from the ARCD-absent index: the right reply is to decline."""
    return [
        GoldItem(id=paragraph["qas"][0]["id"], question=paragraph["qas"][0]["question"], language="ar",
                 type="absent", gold_articles=[])
        for _, _, paragraph in _arcd_paragraphs(path, "held-out")
        if paragraph["qas"]
    ]


def write_arcd_corpus(path: Path, folder: Path, articles: str = "all") -> int:
    """One .txt per ARCD paragraph, the article title as its first line (the headline)."""
    count = 0
    for article_id, title, paragraph in _arcd_paragraphs(path, articles):
        (folder / f"{article_id}.txt").write_text(f"{title}\n{paragraph['context']}\n", encoding="utf-8")
        count += 1
    return count


def select(items: list[GoldItem], ids: list[str] | None = None, limit: int | None = None) -> list[GoldItem]:
    """The items named by `ids` (in gold-set order), else all; then the first `limit`."""
    if ids:
        known = {item.id for item in items}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"No gold question with id {', '.join(unknown)}.")
        wanted = set(ids)
        items = [item for item in items if item.id in wanted]
    return items[:limit] if limit is not None else items
