"""The whole flow in one object, shared by the CLI, the chat UI and the eval.

    question -> (a follow-up: earlier words for the search) -> analyse -> retrieve -> answerable? (else decline)
             -> select passages -> model (JSON) -> quoted passages (quote style) or checked
             sentences (write style) -> keep what answers the question (a count or date: the
             passage code finds closest to the question, when closer than the model's) -> add the article's next
             sentence where it denies or continues a shown one -> add every source's figure
             -> (an English question, quote style: one checked English sentence, picked again over the
             passages that give the question's months and numbers when the first pick's lacks one) -> Answer
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag import casualties
from rag.answerability import Coverage, LexicalStatistics, coverage, decline_message, telling_words
from rag.arabic import detect_language, extract_numbers, plain_words, split_sentences
from rag.backends import ChatModel, Embedder, Usage, make_chat_model, make_embedder
from rag.citations import check_answer, check_english_answer, check_sentence, e5_similarity
from rag.clean import neutralise
from rag.draft import parse_draft, parse_quote, render, restates_question
from rag.english_cues import UNHELD_REASON, UNHELD_REPLY, EnglishCues
from rag.errors import InputError, StoreError
from rag.figures import FIGURE_REASON, Figure, collect_figures, disagreeing
from rag.following import REASONS as FOLLOWING_REASONS
from rag.following import following
from rag.fragments import completed, is_fragment
from rag.ingest import IngestReport, ingest
from rag.instructions import without_instructions
from rag.lexical import ArticleRecord
from rag.lock import IndexLock
from rag.names import english_name, spelled_names
from rag.passages import select_passages
from rag.prompt import (
    ENGLISH_SCHEMA,
    REWRITE_SCHEMA,
    answer_schema,
    build_messages,
    english_messages,
    parse_english,
    parse_rewrite,
    quote_messages,
    quote_schema,
    rewrite_messages,
)
from rag.question import COUNT, DATE, PERSON, PLACE, Question, analyse, with_context
from rag.quote import (
    FIGURE_IN_ENGLISH,
    NAME_IN_ENGLISH,
    calendar_dates,
    closer_than_picked,
    closest_typed,
    date_nearest,
    english_figure,
    holds_answer,
    introduces,
    is_name,
    passage_words,
    picks_by_code,
    quoted_sentences,
    stating,
    unlisted_holders,
    whole_date,
    whole_name,
)
from rag.relevance import CASUALTIES_TOGETHER, MIN_QUESTION_SIMILARITY, asked_figures, irrelevance, wrong_language
from rag.retrieve import HybridRetriever, ranked_articles, with_each_first
from rag.sentence_vectors import SentenceVectors
from rag.settings import Settings
from rag.store import ChunkStore
from rag.types import SUPPORTED, Answer, Chunk, Citation, Hit, Passage, Sentence

History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass
class AnswerUpdate:
    """One step of a streamed answer: the text so far; the last one carries the checked Answer.

    Before the model is asked, one update carries the passages it is about to read (and no
    text), so the reader sees what is being read while the model reads it.
    """

    text: str
    answer: Answer | None = None
    passages: list[Passage] | None = None


@dataclass
class _Clock:
    """Times and token counts of one question, over every model call it makes."""

    started: float = field(default_factory=time.perf_counter)
    usage: Usage = field(default_factory=Usage)
    _call: Usage | None = None
    _first_words: float | None = None

    def s(self) -> float:
        return time.perf_counter() - self.started

    def first_words(self) -> None:
        if self._first_words is None:
            self._first_words = self.s()

    def first_words_s(self) -> float:
        """When the reader saw the first words: the first streamed token, else the reply itself."""
        return self._first_words if self._first_words is not None else self.s()

    def new_call(self) -> Usage:
        self._call = Usage()
        return self._call

    def add_call(self) -> Usage:
        """Count the last call's tokens into the question's; returns that call's usage."""
        call, self._call = self._call or Usage(), None
        self.usage.add(call)
        return call


class Pipeline:
    def __init__(self, settings: Settings, *, chat_model: ChatModel | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self._chat_model = chat_model
        self._embedder = embedder
        self._store: ChunkStore | None = None
        self._retriever: HybridRetriever | None = None
        self._sentence_vectors: SentenceVectors | None = None
        self._similarity = None

    @property
    def answer_style(self) -> str:
        """"quote" or "write" (rag.settings: auto quotes with the small embedded model, which writes
        unreliably, and lets Ollama's larger models write)."""
        if self.settings.answer_style == "auto":
            return "quote" if self.settings.backend == "embedded" else "write"
        return self.settings.answer_style

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
        with IndexLock(self.settings.home).writing():  # another writer of this RAG_HOME goes first
            if rebuild:
                self._store = ChunkStore(self.settings, self.embedder.name, self.embedder.dimension, rebuild=True)
                self._retriever = None
            return ingest(paths, self.store, self.embedder, self.settings, prune=prune, progress=progress)

    def articles(self) -> list[ArticleRecord]:
        return self.store.articles()

    def remove_article(self, article_id: str) -> None:
        if article_id not in {a.article_id for a in self.articles()}:
            raise InputError(f"No article {article_id!r} in the index; `rag sources` lists them.")
        with IndexLock(self.settings.home).writing():
            self.store.delete_article(article_id)

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
        clock = _Clock()
        language = detect_language(question)
        searched, answered, referent = self._follow_up(question, history, clock) if history else (question, question, [])
        rewrite_ms = clock.s() * 1000  # the model call that makes a follow-up stand alone (write style)
        asked = analyse(answered, refers_to=referent)
        retrieval_started = clock.s()
        search_vector, question_vector = self._vectors(searched, asked.in_full)
        # Figures are looked for three times as deep as the passages: another article's figure ranks lower.
        deeper = self.retriever.retrieve(searched, 3 * self.settings.top_k, vector=search_vector)
        # Sentences planted to instruct the model are not news: nothing after this reads them.
        deeper = without_instructions(deeper, self._article_chunks)
        hits = with_each_first(deeper, self.settings.top_k)
        retrieval_ms = (clock.s() - retrieval_started) * 1000  # what `rag eval --retrieval-only` times too
        statistics = self.retriever.statistics
        # An English question's words cannot be looked up in Arabic articles: it skips this test.
        focus = coverage(asked, [hit.chunk.with_headline() for hit in hits], statistics) if asked.language == "ar" else None
        answerable = focus is None or focus.answerable
        passages = []
        if answerable:
            self.sentence_vectors.add(self.store.sentence_vectors([hit.chunk.id for hit in hits]))
            passages = select_passages(asked.in_full, question_vector, hits, self.sentence_vectors, self.settings.context_tokens)
        passages_ms = (clock.s() - retrieval_started) * 1000 - retrieval_ms  # the answerability test and passage selection
        if passages:
            yield AnswerUpdate("", passages=list(passages))  # a copy: figures may add passages later

        quoted, echoed, restated, picked, unheld = None, [], False, [], ""
        if self.answer_style == "quote":
            raw = yield from self._quote(asked.in_full, passages, language, clock)
            quoted = parse_quote(raw)
            checked = quoted_sentences(quoted, passages)
            restated = restates_question(quoted.answer, asked.in_full)  # it copied nothing the question did not say
            picked = [] if restated else [s.text for s in checked]  # where the model found its answer
            if restated:
                checked, echoed = self._about_the_name(checked, quoted.answer, asked, language, passages)
        else:
            raw = yield from self._draft(answered, passages, language, clock)
            draft = parse_draft(raw)
            stated = [(text, cited) for text, cited in draft.sentences if not restates_question(text, answered)]
            checked = check_answer(stated, passages, similarity=self.similarity) if draft.found else []
            checked = [self._complete(sentence, passages) for sentence in checked]
        sentences, withheld = self._keep_relevant(checked, passages, hits, asked, statistics, search_vector)
        if quoted is not None and checked and not sentences and not restated:
            # The model named the wrong one of several passages that hold the words it copied.
            sentences, _ = self._keep_relevant(unlisted_holders(quoted, passages, checked), passages, hits, asked, statistics, search_vector)
        if quoted is not None and picks_by_code(asked):
            sentences = self._closest_figure(sentences, picked, passages, hits, asked, statistics, search_vector)
        withheld = echoed + withheld
        sentences = self._with_following(sentences, passages, hits, asked)
        if passages:
            sentences += self._figures(disagreeing(collect_figures(asked, deeper, statistics)), sentences, passages)
        if quoted is not None and language == "en":
            sentences, unchecked, unheld = yield from self._in_english(asked, quoted.answer, sentences, clock)
            withheld += unchecked
            if unheld:  # the picked passage lacks one of the question's months or numbers
                again = yield from self._picked_where_cued(asked, passages, hits, statistics, search_vector, clock)
                if again:
                    sentences, unheld = again, ""
        sentences, withheld = self._in_question_language(sentences, withheld, asked)
        abstained = not any(s.verdict == SUPPORTED for s in sentences)
        answer = Answer(
            question=question,
            language=language,
            text=_decline(asked, focus, language, withheld, unheld) if abstained else render([(s.text, [c.passage for c in s.citations]) for s in sentences]),
            sentences=[] if abstained else sentences,
            passages=passages,
            abstained=abstained,
            standalone_question=searched,
            retrieved_articles=ranked_articles(hits),
            withheld=withheld,
            model=self.chat_model.name,
            timings={
                **({"rewrite_ms": round(rewrite_ms, 1)} if history else {}),
                "retrieval_ms": round(retrieval_ms, 1),
                "passages_ms": round(passages_ms, 1),
                "first_token_s": round(clock.first_words_s(), 3),
                "total_s": round(clock.s(), 3),
            },
            usage={"prompt_tokens": clock.usage.prompt_tokens, "answer_tokens": clock.usage.answer_tokens,
                   "finish_reason": clock.usage.finish_reason},
            raw_output=raw,
        )
        yield AnswerUpdate(answer.text, answer)

    def _draft(self, question: str, passages: list[Passage], language: str, clock: _Clock) -> Iterator[AnswerUpdate]:
        """Stream the model's JSON answer, showing its sentences as they come. Returns the raw JSON."""
        if not passages:
            return ""
        raw, shown = "", ""
        for piece in self.chat_model.stream(
            build_messages(question, passages, language),
            schema=answer_schema(len(passages)),
            max_tokens=self.settings.max_answer_tokens,
            usage=clock.new_call(),
        ):
            clock.first_words()
            raw += piece
            draft = parse_draft(raw)
            text = " ".join(t for t in (render(draft.sentences), draft.partial) if t)
            if text != shown:
                shown = text
                yield AnswerUpdate(text)
        clock.usage.finish_reason = clock.add_call().finish_reason
        return raw

    def _quote(self, question: str, passages: list[Passage], language: str, clock: _Clock) -> Iterator[AnswerUpdate]:
        """Stream the model's pick: the words it copies, then each passage it names. Returns the raw JSON."""
        if not passages:
            return ""
        raw, shown = "", ""
        texts = {p.number: p.text for p in passages}
        for piece in self.chat_model.stream(
            quote_messages(question, passages),
            schema=quote_schema(len(passages), arabic_words=language == "en"),
            max_tokens=self.settings.max_answer_tokens,
            usage=clock.new_call(),
        ):
            clock.first_words()
            raw += piece
            draft = parse_quote(raw)
            # The copied words first, then the passages they are quoted from, as the model names them.
            text = render([(texts[n], [n]) for n in draft.passages if n in texts]) or draft.answer
            if text != shown:
                shown = text
                yield AnswerUpdate(text)
        clock.usage.finish_reason = clock.add_call().finish_reason
        return raw

    def _in_english(self, asked: Question, answer_words: str, sentences: list[Sentence], clock: _Clock) -> Iterator[AnswerUpdate]:
        """One English sentence for an English question, checked against the quoted passage that
        holds the copied words (a name's grown to whole words, a person's to the whole name) and the question's numbers and months. A bare
        figure or date (a date grown to the whole date its passage writes) is put into English by
        code; anything else, by the model from the question and the copied words, and a name the
        model's sentence fails to write, by code (rag.names.english_name). Returns ([it], [], "") when it
        checks out, else ([], what is withheld, with the reason, and the question's months and numbers
        that the passage holding the copied words lacks, if that is why)."""
        holding = [s for s in sentences if s.verdict == SUPPORTED and holds_answer(s.text, answer_words)]
        misquoted = ""
        if not holding and asked.asks == DATE and (only := _only_date(sentences)):
            misquoted, answer_words, holding = answer_words, only[0], [only[1]]  # the one date of the passages named
        if not holding:
            return [], self._withhold(sentences, f"the copied words «{answer_words}» are not in this passage"), ""
        cues = EnglishCues.of(asked.text)
        evidence = next((s for s in holding if not cues.unheld_dates_and_numbers(s.text)), None)
        if evidence is None:
            unheld = ", ".join(cues.unheld_dates_and_numbers(holding[0].text))
            return [], self._withhold(sentences, f"{UNHELD_REASON} {unheld}"), unheld
        name_asked = asked.asks in (PERSON, PLACE)
        if name_asked:
            answer_words = passage_words(answer_words, evidence.text)
        if asked.asks == PERSON:
            answer_words = whole_name(answer_words, evidence.text)
        if asked.asks == DATE:
            answer_words = whole_date(answer_words, evidence.text)
            if plain_words(answer_words) not in plain_words(evidence.text):  # dates the passage does not write together
                answer_words = date_nearest(asked_figures(asked), evidence.text) or answer_words
        number = evidence.citations[0].passage
        figure = english_figure(answer_words) if asked.asks in (COUNT, DATE) else ""  # a figure of the kind asked for
        if figure:
            english, supported, reason = f"{FIGURE_IN_ENGLISH} {figure}.", True, "a figure or date of the passage, in English by code"
        else:
            english = self._english_sentence(asked.text, answer_words, clock)
            supported, reason = check_english_answer(english, answer_words, evidence.text, asked.text, name_asked=name_asked)
            if supported:
                english = spelled_names(english, answer_words, asked.text, place_asked=asked.asks == PLACE)
            elif name_asked and is_name(answer_words):
                name = english_name(answer_words, english, place_asked=asked.asks == PLACE)
                english, supported, reason = f"{NAME_IN_ENGLISH} {name}.", True, f"a name of the passage, in English by code (the model's sentence: {reason})"
        copied = f"copied «{answer_words}»" + (f", the one date of the passages named (the model's «{misquoted}» is in none)" if misquoted else "")
        citation = Citation(number, supported, f"{reason}; {copied}")
        if not supported:
            return [], [Sentence(english, [citation], withheld=f"{reason}; {copied}")], ""
        yield AnswerUpdate(render([(english, [number])]))
        return [Sentence(english, [citation])], [], ""

    def _picked_where_cued(
        self, asked: Question, passages: list[Passage], hits: list[Hit], statistics: LexicalStatistics,
        question_vector: np.ndarray, clock: _Clock,
    ) -> Iterator[AnswerUpdate]:
        """The English answer from a second quote call over only the passages that give every month
        and number of the question («reported in March 2025»), checked as the first; [] when no
        passage gives them all or the second pick does not check out either."""
        cues = EnglishCues.of(asked.text)
        subset = [p for p in passages if not cues.unheld_dates_and_numbers(p.text)]
        if not subset:
            return []
        renumbered = [replace(p, number=n) for n, p in enumerate(subset, start=1)]
        original = {n: p.number for n, p in enumerate(subset, start=1)}
        quoted = parse_quote(_returned(self._quote(asked.in_full, renumbered, "en", clock)))  # not streamed: its numbers are the subset's
        checked = [
            Sentence(s.text, [replace(c, passage=original[c.passage]) for c in s.citations])
            for s in quoted_sentences(quoted, renumbered)
        ]
        kept, _ = self._keep_relevant(checked, passages, hits, asked, statistics, question_vector)
        shown, _, _ = yield from self._in_english(asked, quoted.answer, kept, clock)
        return shown

    def _english_sentence(self, question: str, answer_words: str, clock: _Clock) -> str:
        raw = "".join(self.chat_model.stream(
            english_messages(question, answer_words), schema=ENGLISH_SCHEMA,
            max_tokens=self.settings.max_answer_tokens, usage=clock.new_call(),
        ))
        clock.add_call()
        return parse_english(raw)

    def _about_the_name(
        self, sentences: list[Sentence], name: str, asked: Question, language: str, passages: list[Passage]
    ) -> tuple[list[Sentence], list[Sentence]]:
        """(shown, withheld) when the copied words only repeat the question. In Arabic, "who is X?"
        is answered by the quoted sentences that open on X, and a question about a figure it gives
        («to which source do the articles attribute the 14,000 estimate?») by the shown passages that
        state that figure; everything else is withheld."""
        shown: list[Sentence] = []
        if language == "ar" and asked.identity:
            shown = [s for s in sentences if introduces(s.text, name)]
        elif language == "ar":
            shown = stating(asked_figures(asked), passages)
        cited = {c.passage for s in shown for c in s.citations}
        withheld = [s for s in sentences if not cited & {c.passage for c in s.citations}]
        return shown, self._withhold(withheld, f"the copied words «{name}» only repeat the question")

    @staticmethod
    def _withhold(sentences: list[Sentence], reason: str) -> list[Sentence]:
        for sentence in sentences:
            sentence.withheld = reason
        return sentences

    def _in_question_language(
        self, sentences: list[Sentence], withheld: list[Sentence], asked: Question
    ) -> tuple[list[Sentence], list[Sentence]]:
        """An English question is answered in English: a sentence in another language is withheld."""
        shown = []
        for sentence in sentences:
            reason = wrong_language(sentence.text, asked)
            if reason:
                sentence.withheld = reason
                withheld = [*withheld, sentence]
            else:
                shown.append(sentence)
        return shown, withheld

    def _complete(self, sentence: Sentence, passages: list[Passage]) -> Sentence:
        """A supported fragment ("14,000 جندي.") replaced by the clause of its passage that states it."""
        if sentence.verdict != SUPPORTED or not is_fragment(sentence.text):
            return sentence
        texts = {p.number: p.text for p in passages}
        for citation in sentence.citations:
            clause = completed(sentence.text, texts[citation.passage]) if citation.supported else None
            if clause:
                citations = check_sentence(clause, {citation.passage: texts[citation.passage]}, similarity=self.similarity)
                return Sentence(clause, citations)
        return sentence

    def _keep_relevant(
        self,
        sentences: list[Sentence],
        passages: list[Passage],
        hits: list[Hit],
        asked: Question,
        statistics: LexicalStatistics,
        question_vector: np.ndarray,
    ) -> tuple[list[Sentence], list[Sentence]]:
        """(sentences that answer the question, sentences withheld with the reason why).

        A passage's terms are judged with the sentences beside it in its chunk and its article's
        headline: "Gerasimov, chief of staff, ..." is about the troops he praised when the next
        sentence names them, and "in the report on the Storm Shadow strike" is what its headline
        says. Its closeness to the question is the passage's own (a follow-up's: to what was searched)."""
        chunks = {hit.chunk.id: hit.chunk for hit in hits}
        texts = {p.number: f"{p.headline}\n{_with_neighbours(p, chunks.get(p.chunk_id))}" for p in passages}
        own = {p.number: p.text for p in passages}
        floor = MIN_QUESTION_SIMILARITY.get(self.embedder.name)
        kept, withheld = [], []
        for sentence in sentences:
            numbers = [c.passage for c in sentence.citations if c.supported and c.passage in texts]
            similarity = self._closeness(question_vector, [own[n] for n in numbers]) if numbers and floor and asked.language == "ar" else None
            reason = irrelevance(sentence.text, [texts[n] for n in numbers], asked, statistics, similarity, floor) if numbers else ""
            if reason:
                sentence.withheld = reason
                withheld.append(sentence)
            else:
                kept.append(sentence)
        return kept, withheld

    def _closest_figure(
        self,
        sentences: list[Sentence],
        picked: list[str],
        passages: list[Passage],
        hits: list[Hit],
        asked: Question,
        statistics: LexicalStatistics,
        question_vector: np.ndarray,
    ) -> list[Sentence]:
        """A count or date question's answer: what is kept of the model's pick (`sentences`), unless
        code finds a shown passage that gives a figure or date, passes the relevance test and holds
        more of the question's words than every passage the model picked (rag.quote.closer_than_picked)."""
        candidates, _ = self._keep_relevant(closest_typed(asked, passages, statistics), passages, hits, asked, statistics, question_vector)
        closer = closer_than_picked(asked, candidates, picked, statistics)
        return [closer] if closer else sentences

    def _closeness(self, question_vector: np.ndarray, passages: list[str]) -> float:
        """The e5 similarity of the question to the closest of these passages (vectors stored at ingest)."""
        return float(np.max(self.sentence_vectors.of(passages) @ question_vector))

    @staticmethod
    def _with_following(sentences: list[Sentence], passages: list[Passage], hits: list[Hit], asked: Question) -> list[Sentence]:
        """The sentences, each supported one followed by the next sentence of its article when
        that one denies it or continues it (rag.following), quoted from a passage of its own
        when no shown passage holds it."""
        chunks = {hit.chunk.id: hit.chunk for hit in hits}
        by_number = {p.number: p for p in passages}
        cited = {c.passage for s in sentences for c in s.citations}
        result = []
        for sentence in sentences:
            result.append(sentence)
            for citation in sentence.citations if sentence.verdict == SUPPORTED else []:
                shown = by_number.get(citation.passage)
                chunk = chunks.get(shown.chunk_id) if shown else None
                found = following(chunk, shown.start, shown.end, asked) if chunk else None
                if found is None:
                    continue
                kind, start, end = found
                text = chunk.text[start - chunk.start : end - chunk.start]
                passage = _passage_holding(passages, shown.article_id, shown.headline, text, start, end, chunk.id)
                if passage.number not in cited:
                    cited.add(passage.number)
                    result.append(Sentence(passage.text, [Citation(passage.number, True, FOLLOWING_REASONS[kind])]))
        return result

    def _figures(self, figures: list[Figure], sentences: list[Sentence], passages: list[Passage]) -> list[Sentence]:
        """A checked sentence for each article's figure that the answer does not give yet.

        A figure's clause becomes a passage of its own when no shown passage holds it (_passage_holding)."""
        stated = {value for s in sentences if s.verdict == SUPPORTED for value in extract_numbers(s.text)}
        added = []
        for figure in figures:
            if set(figure.values) <= stated:
                continue
            passage = _passage_holding(passages, figure.article_id, figure.headline, figure.clause, figure.start, figure.end, figure.chunk_id)
            citations = [
                replace(c, reason=f"{FIGURE_REASON}; {c.reason}")
                for c in check_sentence(figure.clause, {passage.number: passage.text}, similarity=self.similarity)
            ]
            added.append(Sentence(figure.clause, citations))
            stated |= set(figure.values)
        return added

    @property
    def sentence_vectors(self) -> SentenceVectors:
        if self._sentence_vectors is None:
            self._sentence_vectors = SentenceVectors(self.embedder)
        return self._sentence_vectors

    @property
    def similarity(self):
        if self._similarity is None:
            self._similarity = e5_similarity(self.embedder, self.sentence_vectors)
        return self._similarity

    def _validate(self, question: str) -> str:
        # Invisible, reordering and control characters go first, and so do lone surrogates (an
        # API client can send them; no encoding can carry them on to the model), so a question
        # made only of them is empty and the length limit counts what the model reads.
        question = _LONE_SURROGATES.sub("", neutralise(question or "")).strip()
        if not question:
            raise InputError("The question is empty; type a question about the articles.")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"The question is {len(question)} characters long; the limit is {self.settings.max_question_chars}. Shorten it."
            )
        if self.store.count() == 0:
            raise StoreError("The index is empty. Add articles first: `rag ingest seeds/`.")
        return question

    def _article_chunks(self, article_id: str) -> list[Chunk]:
        return self.store.chunks(sorted(self.store.lexical.article_chunk_ids(article_id)))

    def _follow_up(self, question: str, history: History, clock: _Clock) -> tuple[str, str, list[str]]:
        """(what a follow-up is searched with, what it is answered as, the words for what it refers to).

        The small model's rewrites lose what was asked (it returned the earlier question, or turned
        "what did he say" into "who said"), so in the quote style the search adds the earlier
        questions' words and the last answer's telling words in code. The follow-up is answered as
        typed, with only the last answer's words beside it: given the earlier question's words, the
        model answered "how many of them were killed or wounded?" with the number sent, while
        «وماذا قال عن الجنود؟» needs «فاليري جيراسيموف» from the answer to «من هو رئيس الأركان؟».
        A larger model (the write style) rewrites it, and the rewrite is used throughout."""
        if self.answer_style == "quote":
            referent = telling_words(self.retriever.statistics, history[-1][1])
            return with_context(question, [earlier for earlier, _ in history], referent), question, referent
        standalone = self._standalone(question, history, clock)
        return standalone, standalone, []

    def _vectors(self, searched: str, question: str) -> tuple[np.ndarray, np.ndarray]:
        """The query vectors of the search and of the question the passages are chosen for."""
        if searched == question:
            vector = self.embedder.embed_queries([question])[0]
            return vector, vector
        search_vector, question_vector = self.embedder.embed_queries([searched, question])
        return search_vector, question_vector

    def _standalone(self, question: str, history: History, clock: _Clock) -> str:
        messages = rewrite_messages(question, list(history))
        raw = "".join(self.chat_model.stream(messages, schema=REWRITE_SCHEMA, max_tokens=80, usage=clock.new_call()))
        clock.add_call()
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


def _passage_holding(passages: list[Passage], article_id: str, headline: str, text: str, start: int, end: int, chunk_id: str) -> Passage:
    """The shown passage that holds article[start:end], else a new one of just that text, added to `passages`."""
    holding = next((p for p in passages if p.article_id == article_id and p.start <= start and end <= p.end), None)
    if holding is None:
        holding = Passage(len(passages) + 1, article_id, headline, text, start, end, chunk_id)
        passages.append(holding)
    return holding


def _returned(steps: Iterator):
    """What a generator returns, its updates left unshown."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def _only_date(sentences: list[Sentence]) -> tuple[str, Sentence] | None:
    """(the date, its sentence) when the supported sentences write one calendar date between them."""
    dated = {date: s for s in sentences if s.verdict == SUPPORTED for date in calendar_dates(s.text)}
    return next(iter(dated.items())) if len(dated) == 1 else None


def _decline(asked: Question, focus: Coverage | None, language: str, withheld: list[Sentence], unheld: str) -> str:
    """The reply when nothing is shown: what the articles give instead of the answer, when a
    passage gave a figure of the killed and wounded together; the months or numbers of an English
    question that the passage with an answer lacks (`unheld`); else what the articles mention and lack."""
    if any(s.withheld == CASUALTIES_TOGETHER for s in withheld):
        return casualties.reply(asked.casualties, language)
    if unheld:
        return UNHELD_REPLY.format(unheld=unheld)
    return decline_message(asked, focus, language)


def _with_neighbours(passage: Passage, chunk: Chunk | None) -> str:
    """The passage and the sentence before and after it in its chunk."""
    if chunk is None:
        return passage.text
    spans = split_sentences(chunk.text)
    start, end = passage.start - chunk.start, passage.end - chunk.start
    inside = [i for i, (s_start, s_end) in enumerate(spans) if s_end > start and s_start < end]
    if not inside:
        return passage.text
    first, last = max(inside[0] - 1, 0), min(inside[-1] + 1, len(spans) - 1)
    return chunk.text[spans[first][0] : spans[last][1]]
