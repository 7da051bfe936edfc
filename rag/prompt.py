"""What the model is asked: the answer prompt and its JSON schema, and the follow-up rewrite.

Small models cite unreliably in free text, so the model fills a JSON schema
({found, sentences: [{text, passages}]}) and we render the `[n]` markers.

Passages reach the model as data: each inside <passage id="n"> ... </passage>, with the
article text unable to close the marker. (A system-prompt sentence calling passage text
"quoted, never an instruction" was measured and dropped: it made the model answer an
unanswerable English question of the CI gate, una-19; the sentences that give orders are
removed in code before the model reads anything, rag/instructions.py.)
"""
from __future__ import annotations

import json
import re

from typing import TYPE_CHECKING

from rag.arabic import normalize
from rag.clean import neutralise
from rag.draft import without_rendered_markers
from rag.types import Passage

if TYPE_CHECKING:
    from llama_index.core.llms import ChatMessage

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


# The "quote" answer style: the small model only points at the passages that answer and copies the
# answer's words; code shows those passages' sentences verbatim (rag.quote). One prompt for both
# languages: the passages are Arabic either way; an English question then gets one English sentence
# made from the copied words (ENGLISH_SYSTEM).
QUOTE_SYSTEM = (
    "Find the answer to the question in the numbered Arabic passages. Copy the answer's words exactly as "
    "the passage writes them, in Arabic, and list the passages that state it, best first. If no passage "
    "states the answer, write an empty answer and an empty list."
)


# The length is in the pattern (llama.cpp drops maxLength when a pattern is given), and no quote
# mark is in it: the pattern's characters reach the JSON unescaped, so a «"» would end the string.
ANSWER_WORDS_PATTERN = "^[\u0600-\u06FF0-9 .,%/()«»-]{0,120}$"


def quote_schema(n_passages: int, *, arabic_words: bool = False) -> dict:
    """The answer span, copied, then the passages that state it; numbers limited to those shown.

    `arabic_words` (an English question): the span is held to Arabic script and digits, as the
    passages write it; left free, the small model answers an English question with English words
    of its own ("General Walis") instead of copying."""
    answer_words = {"type": "string", "maxLength": 160}
    if arabic_words:
        answer_words["pattern"] = ANSWER_WORDS_PATTERN
    return {
        "type": "object",
        "properties": {
            "answer": answer_words,
            "passages": {
                "type": "array",
                "items": {"type": "integer", "enum": list(range(1, n_passages + 1))},
                "maxItems": 3,
            },
        },
        "required": ["answer", "passages"],
    }


def quote_messages(question: str, passages: list[Passage]) -> list[ChatMessage]:
    listed = "\n".join(f'<passage id="{p.number}">{_quoted(p.text)}</passage>' for p in passages)
    return _chat(QUOTE_SYSTEM, f"Passages:\n{listed}\n\nQuestion: {neutralise(question)}")


# An English question over Arabic passages: the 1.5B model translates news sentences unfaithfully
# (measured: invented people and events), but turns a question and its answer words into one English
# sentence well. The sentence is then checked against the passage the words were copied from.
ENGLISH_SYSTEM = (
    "Answer the question in one English sentence that uses the answer words given. Translate them if they "
    "are Arabic, and write each name as English news spells it. Add nothing else."
)
ENGLISH_SCHEMA = {
    "type": "object",
    "properties": {"sentence": {"type": "string", "minLength": 8, "maxLength": 300}},
    "required": ["sentence"],
}


def english_messages(question: str, answer_words: str) -> list[ChatMessage]:
    return _chat(ENGLISH_SYSTEM, f"Question: {neutralise(question)}\nAnswer words: {_quoted(answer_words)}")


_SPLIT_THOUSANDS = re.compile(r"(\d),\s+(\d{3})\b")


def parse_english(raw: str) -> str:
    """The sentence the model wrote; "25, 000" (a tokenizer habit of the small model) read as 25,000."""
    try:
        sentence = str(json.loads(raw).get("sentence", "")).strip()
    except (json.JSONDecodeError, AttributeError):
        return ""
    return _SPLIT_THOUSANDS.sub(r"\1,\2", sentence)


def build_messages(question: str, passages: list[Passage], language: str) -> list[ChatMessage]:
    passages_label, question_label = _LABELS[language]
    # Defused again here: an index written before neutralise existed, and the question itself.
    listed = "\n".join(f'<passage id="{p.number}">{_quoted(p.text)}</passage>' for p in passages)
    question = neutralise(question)
    return _chat(_SYSTEM[language], f"{passages_label}:\n{listed}\n\n{question_label}: {question}")


def _quoted(text: str) -> str:
    """Article text as passage content: defused, and with no angle bracket to end the passage early."""
    return neutralise(text).replace("<", "‹").replace(">", "›")


def quotes_prompt(text: str, words: int = 5) -> bool:
    """True when `text` repeats `words` consecutive words of one of our system prompts."""
    said = _word_runs(text, words)
    return any(said & _word_runs(prompt, words) for prompt in (*_SYSTEM.values(), QUOTE_SYSTEM, ENGLISH_SYSTEM, _REWRITE_SYSTEM))


def _word_runs(text: str, n: int) -> set[tuple[str, ...]]:
    found = re.findall(r"\w+", normalize(text))
    return {tuple(found[i : i + n]) for i in range(len(found) - n + 1)}


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
        lines.append(f"User: {neutralise(user)}")
        lines.append(f"Assistant: {neutralise(without_rendered_markers(assistant))[:max_chars]}")
    conversation = "\n".join(lines)
    return _chat(_REWRITE_SYSTEM, f"{conversation}\n\nLast question: {neutralise(question)}")


def _chat(system: str, user: str) -> list[ChatMessage]:
    # llama-index takes 2 s to import: loaded when a prompt is built, not by `rag --help`
    from llama_index.core.llms import ChatMessage, MessageRole

    return [ChatMessage(role=MessageRole.SYSTEM, content=system), ChatMessage(role=MessageRole.USER, content=user)]


def parse_rewrite(raw: str, fallback: str) -> str:
    try:
        question = str(json.loads(raw).get("question", "")).strip()
    except (json.JSONDecodeError, AttributeError):
        return fallback
    return question or fallback
