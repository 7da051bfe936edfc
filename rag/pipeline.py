"""The whole flow in one object, shared by the CLI, the chat UI and the eval.

    question -> (rewrite with history) -> retrieve -> select passages -> model (JSON)
             -> check citations -> Answer
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer import (
    ABSTAIN,
    REWRITE_SCHEMA,
    answer_schema,
    build_messages,
    parse_draft,
    parse_rewrite,
    render,
    restates_question,
    rewrite_messages,
    select_passages,
)
from rag.arabic import detect_language
from rag.backends import ChatModel, Embedder, Generation, make_chat_model, make_embedder
from rag.citations import check_answer, e5_similarity
from rag.errors import InputError, StoreError
from rag.ingest import IngestReport, ingest
from rag.retrieve import HybridRetriever, ranked_articles
from rag.settings import Settings
from rag.store import ArticleRecord, ChunkStore
from rag.types import Answer, Hit

History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first


@dataclass
class AnswerUpdate:
    """One step of a streamed answer: the text so far; the last one carries the checked Answer."""

    text: str
    answer: Answer | None = None


class Pipeline:
    def __init__(self, settings: Settings, *, chat_model: ChatModel | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self._chat_model = chat_model
        self._embedder = embedder
        self._store: ChunkStore | None = None
        self._retriever: HybridRetriever | None = None
        self._similarity = None

    @property
    def chat_model(self) -> ChatModel:
        if self._chat_model is None:
            self._chat_model = make_chat_model(self.settings)
        return self._chat_model

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def store(self) -> ChunkStore:
        if self._store is None:
            self._store = ChunkStore(self.settings, self.embedder.name, self.embedder.dimension)
        return self._store

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self._retriever = HybridRetriever(self.store, self.embedder, self.settings.rrf_k)
        return self._retriever

    # --- the index -------------------------------------------------------

    def ingest(self, paths: list[Path], *, prune: bool = False, rebuild: bool = False, progress: bool = True) -> IngestReport:
        if rebuild:
            self._store = ChunkStore(self.settings, self.embedder.name, self.embedder.dimension, rebuild=True)
            self._retriever = None
        report = ingest(paths, self.store, self.embedder, self.settings, prune=prune, progress=progress)
        self.retriever.refresh()
        return report

    def articles(self) -> list[ArticleRecord]:
        return self.store.articles()

    def remove_article(self, article_id: str) -> None:
        if article_id not in {a.article_id for a in self.articles()}:
            raise InputError(f"No article {article_id!r} in the index; `rag sources` lists them.")
        self.store.delete_article(article_id)
        self.retriever.refresh()

    # --- questions -------------------------------------------------------

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        return self.retriever.retrieve(question, top_k or self.settings.top_k)

    def ask(self, question: str, history: History = ()) -> Answer:
        for update in self.ask_stream(question, history):
            if update.answer is not None:
                return update.answer
        raise AssertionError("ask_stream ended without an answer")

    def ask_stream(self, question: str, history: History = ()) -> Iterator[AnswerUpdate]:
        question = self._validate(question)
        started = time.perf_counter()
        language = detect_language(question)
        standalone = self._standalone(question, history) if history else question
        hits = self.retrieve(standalone)
        passages = select_passages(standalone, hits, self.embedder, self.settings.context_tokens)
        retrieval_ms = (time.perf_counter() - started) * 1000

        usage = Generation()
        raw = ""
        first_token_s = None
        shown = ""
        for piece in self.chat_model.stream(
            build_messages(standalone, passages, language),
            schema=answer_schema(len(passages)),
            max_tokens=self.settings.max_answer_tokens,
            usage=usage,
        ):
            if first_token_s is None:
                first_token_s = time.perf_counter() - started
            raw += piece
            draft = parse_draft(raw)
            text = " ".join(t for t in (render(draft.sentences), draft.partial) if t)
            if text != shown:
                shown = text
                yield AnswerUpdate(text)

        draft = parse_draft(raw)
        stated = [(text, cited) for text, cited in draft.sentences if not restates_question(text, standalone)]
        sentences = check_answer(stated, passages, similarity=self.similarity) if draft.found else []
        abstained = not any(s.verdict == "supported" for s in sentences)
        answer = Answer(
            question=question,
            language=language,
            text=ABSTAIN[language] if abstained else render([(s.text, [c.passage for c in s.citations]) for s in sentences]),
            sentences=[] if abstained else sentences,
            passages=passages,
            abstained=abstained,
            standalone_question=standalone,
            retrieved_articles=ranked_articles(hits),
            model=self.chat_model.name,
            timings={
                "retrieval_ms": round(retrieval_ms, 1),
                "first_token_s": round(first_token_s or 0.0, 3),
                "total_s": round(time.perf_counter() - started, 3),
            },
            usage={"prompt_tokens": usage.prompt_tokens, "answer_tokens": usage.answer_tokens},
            raw_output=raw,
        )
        yield AnswerUpdate(answer.text, answer)

    @property
    def similarity(self):
        if self._similarity is None:
            self._similarity = e5_similarity(self.embedder)
        return self._similarity

    def _validate(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise InputError("The question is empty; type a question about the articles.")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"The question is {len(question)} characters long; the limit is {self.settings.max_question_chars}. Shorten it."
            )
        if self.store.count() == 0:
            raise StoreError("The index is empty. Add articles first: `rag ingest seeds/`.")
        return question

    def _standalone(self, question: str, history: History) -> str:
        raw = "".join(
            self.chat_model.stream(rewrite_messages(question, list(history)), schema=REWRITE_SCHEMA, max_tokens=80)
        )
        return parse_rewrite(raw, fallback=question)

    def status(self) -> dict:
        articles = self.articles()
        return {
            "model": self.chat_model.name,
            "model_status": self.chat_model.status(),
            "embedder": self.embedder.name,
            "articles": len(articles),
            "chunks": sum(a.chunks for a in articles),
            "index": self.settings.chroma_url or str(self.settings.chroma_path),
        }
