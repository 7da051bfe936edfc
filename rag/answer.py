"""From retrieved chunks to a prompt, and from the model's JSON back to cited sentences.

Small models cite unreliably in free text, so the model fills a JSON schema
({found, sentences: [{text, passages}]}) and we render the `[n]` markers.
The prompt holds only the most relevant sentences of each retrieved chunk:
prompt size is the latency on a CPU.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
from llama_index.core.llms import ChatMessage, MessageRole

from rag.arabic import content_terms, extract_numbers, numbers_match, split_sentences
from rag.backends import Embedder
from rag.chunk import count_tokens
from rag.types import Hit, Passage

_SYSTEM = {
    "ar": (
        "أجب عن السؤال من المقاطع المرقمة فقط، بجملة عربية كاملة أو جملتين، "
        "ومع كل جملة أرقام المقاطع التي تذكر ما فيها. إذا اختلفت المقاطع في رقم فاذكر كل رقم مع مقطعه. "
        "إذا لم تجب المقاطع عن السؤال فاجعل found تساوي false."
    ),
    "en": (
        "Answer the question from the numbered Arabic passages only, in one or two full English sentences, "
        "each with the numbers of the passages that state it. If the passages give different figures, give each "
        "figure with its passage. If the passages do not answer the question, set found to false."
    ),
}
_LABELS = {
    "ar": ("المقاطع", "السؤال"),
    "en": ("Passages", "Question"),
}


def answer_schema(n_passages: int) -> dict:
    """The JSON the model must write; passage numbers are limited to those it was shown."""
    return {
        "type": "object",
        "properties": {
            "found": {"type": "boolean"},
            "sentences": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 12},
                        "passages": {
                            "type": "array",
                            "items": {"type": "integer", "enum": list(range(1, n_passages + 1))},
                            "minItems": 1,
                            "maxItems": 3,
                        },
                    },
                    "required": ["text", "passages"],
                },
            },
        },
        "required": ["found", "sentences"],
    }


def select_passages(
    question: str, hits: list[Hit], embedder: Embedder, budget_tokens: int, per_hit: int = 2
) -> list[Passage]:
    """The sentences of the retrieved chunks that best match the question, within the token budget.

    First the best sentence of every hit (in rank order), then the runners-up, so a
    lower-ranked article still gets a voice before a top one gets a second sentence.
    """
    candidates: list[tuple[Hit, int, int]] = []  # (hit, start, end) in article offsets
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        for s_start, s_end in split_sentences(hit.chunk.text):
            key = (hit.chunk.article_id, hit.chunk.start + s_start)
            if key not in seen:
                seen.add(key)
                candidates.append((hit, hit.chunk.start + s_start, hit.chunk.start + s_end))
    if not candidates:
        return []
    texts = [hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start] for hit, start, end in candidates]
    scores = _relevance(question, texts, embedder)
    by_hit: dict[str, list[int]] = {}
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        by_hit.setdefault(candidates[i][0].chunk.id, []).append(i)
    order = [by_hit[hit.chunk.id][round_] for round_ in range(per_hit) for hit in hits if len(by_hit.get(hit.chunk.id, [])) > round_]
    chosen: list[int] = []
    used = 0
    for i in order:
        cost = count_tokens(texts[i]) + 4
        if used + cost > budget_tokens and chosen:
            continue
        chosen.append(i)
        used += cost
    return [
        Passage(
            number=n,
            article_id=candidates[i][0].chunk.article_id,
            headline=candidates[i][0].chunk.headline,
            text=texts[i],
            start=candidates[i][1],
            end=candidates[i][2],
            chunk_id=candidates[i][0].chunk.id,
        )
        for n, i in enumerate(chosen, start=1)
    ]


def _relevance(question: str, sentences: list[str], embedder: Embedder) -> list[float]:
    """Cosine similarity of e5 embeddings, nudged by shared content words (exact names and numbers)."""
    q = np.asarray(embedder.embed_queries([question])[0])
    s = np.asarray(embedder.embed_passages(sentences))
    dense = s @ q
    terms = content_terms(question)
    lexical = [len(terms & content_terms(t)) / len(terms) if terms else 0.0 for t in sentences]
    return [float(d) + 0.15 * l for d, l in zip(dense, lexical)]


def build_messages(question: str, passages: list[Passage], language: str) -> list[ChatMessage]:
    passages_label, question_label = _LABELS[language]
    listed = "\n".join(f"[{p.number}] {p.text}" for p in passages)
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=_SYSTEM[language]),
        ChatMessage(role=MessageRole.USER, content=f"{passages_label}:\n{listed}\n\n{question_label}: {question}"),
    ]


@dataclass
class DraftAnswer:
    """What the model has written so far, parsed from its (possibly unfinished) JSON."""

    found: bool | None
    sentences: list[tuple[str, list[int]]]  # complete sentences with their passage numbers
    partial: str  # the sentence being written, without citations yet


_FOUND = re.compile(r'"found"\s*:\s*(true|false)')
_SENTENCE = re.compile(r'\{\s*"text"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"passages"\s*:\s*\[([^\]]*)\]\s*\}')
_OPEN_TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*\\?)$')


def parse_draft(raw: str) -> DraftAnswer:
    """Parse the JSON the model is streaming; tolerant of a cut-off end."""
    try:
        data = json.loads(raw)
        sentences = [
            (str(item.get("text", "")).strip(), [int(n) for n in item.get("passages", []) if isinstance(n, int)])
            for item in data.get("sentences", [])
            if isinstance(item, dict)
        ]
        return DraftAnswer(bool(data.get("found")), _distinct(sentences), "")
    except (json.JSONDecodeError, AttributeError, TypeError):
        pass
    found_match = _FOUND.search(raw)
    found = None if found_match is None else found_match.group(1) == "true"
    sentences = []
    last_end = 0
    for match in _SENTENCE.finditer(raw):
        numbers = [int(n) for n in re.findall(r"\d+", match.group(2))]
        sentences.append((_unescape(match.group(1)).strip(), numbers))
        last_end = match.end()
    open_text = _OPEN_TEXT.search(raw[last_end:])
    partial = _unescape(open_text.group(1)) if open_text else ""
    return DraftAnswer(found, _distinct(sentences), partial)


def _distinct(sentences: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """Drop empty sentences and repeats (small models sometimes write a sentence twice);
    passage references written into the text become citations."""
    seen: set[str] = set()
    kept = []
    for text, numbers in sentences:
        text, referenced = strip_passage_references(text)
        if text and text not in seen:
            seen.add(text)
            kept.append((text, list(dict.fromkeys(numbers + referenced))))
    return kept


_NUMBERS = r"\[?\s*\d+\s*\]?(?:\s*(?:,|،|and|و)\s*\[?\s*\d+\s*\]?)*"
_PASSAGE_WORD = r"(?:\b[Pp]assages?|(?:ال|لل|بال)?(?:مقطع|مقاطع))"
_PASSAGE_REFERENCES = [
    # "Based on the information provided in Passage 1, ..." / "وفقاً للمقطع 2، ..." / "المقاطع: [1] ..."
    re.compile(
        rf"^(?:(?:[Aa]ccording to|[Bb]ased on|[Aa]s (?:stated|mentioned|shown) in|[Ff]rom|[Ii]n)\b[^,.]{{0,60}}?"
        rf"|(?:وفقا|وفقاً|طبقا|طبقاً|بحسب|حسب|كما (?:جاء|ورد) في|في)\s*)?"
        rf"{_PASSAGE_WORD}\s*:?\s*{_NUMBERS}\s*[,،:]?\s*"
    ),
    # "(passage 2)", "in passages 1 and 3", "(المقطع 2)"
    re.compile(rf"\s*\(?(?:\b(?:in|see|from) |في )?{_PASSAGE_WORD}\s*:?\s*{_NUMBERS}\)?"),
    # "[1]", "[1, 2]"
    re.compile(r"\s*\[\s*\d+(?:\s*[,،]\s*\d+)*\s*\]"),
]


def strip_passage_references(text: str) -> tuple[str, list[int]]:
    """The sentence without "Passage 1" / "المقطع 1" / "[1]" written into it, and the numbers it named.

    We render citations ourselves; a number left in the text would also read as a fact to check.
    """
    numbers: list[int] = []

    def take(match: re.Match) -> str:
        numbers.extend(int(n) for n in re.findall(r"\d+", match.group(0)))
        return ""

    for pattern in _PASSAGE_REFERENCES:
        text = pattern.sub(take, text)
    text = text.strip()
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text, list(dict.fromkeys(numbers))


def restates_question(sentence: str, question: str) -> bool:
    """True when the sentence says nothing the question did not: no new content word, no new number.

    A small model that finds no answer tends to echo the question, which its passage then "supports".
    """
    asked_numbers = extract_numbers(question)
    new_numbers = [n for n in extract_numbers(sentence) if not any(numbers_match(n, m) for m in asked_numbers)]
    return not new_numbers and content_terms(sentence) <= content_terms(question)


def _unescape(fragment: str) -> str:
    fragment = re.sub(r"\\u[0-9a-fA-F]{0,3}$|\\$", "", fragment)  # an escape cut in half
    try:
        return json.loads(f'"{fragment}"')
    except json.JSONDecodeError:
        return fragment


def render(sentences: list[tuple[str, list[int]]]) -> str:
    return " ".join(f"{text} {''.join(f'[{n}]' for n in numbers)}".strip() for text, numbers in sentences)


_CITATION_MARK = re.compile(r"\s*\[\d+\]")
_REWRITE_SYSTEM = (
    "Rewrite the user's last question as one standalone question that can be understood without the "
    "conversation, in the same language as that question. Replace pronouns with the names they refer to. "
    "If it is already standalone, return it unchanged."
)
REWRITE_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}},
    "required": ["question"],
}


def rewrite_messages(question: str, history: list[tuple[str, str]], max_chars: int = 300) -> list[ChatMessage]:
    """A short prompt: the last two turns, answers trimmed, then the follow-up question."""
    lines = []
    for user, assistant in history[-2:]:
        lines.append(f"User: {user}")
        lines.append(f"Assistant: {_CITATION_MARK.sub('', assistant)[:max_chars]}")
    conversation = "\n".join(lines)
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=_REWRITE_SYSTEM),
        ChatMessage(role=MessageRole.USER, content=f"{conversation}\n\nLast question: {question}"),
    ]


def parse_rewrite(raw: str, fallback: str) -> str:
    try:
        question = str(json.loads(raw).get("question", "")).strip()
    except (json.JSONDecodeError, AttributeError):
        return fallback
    return question or fallback
