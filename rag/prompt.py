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
    return any(said & _word_runs(prompt, words) for prompt in (*_SYSTEM.values(), _REWRITE_SYSTEM))


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
