"""The plain data that flows through the pipeline, stage to stage.

load -> Article -> clean -> Article (cleaned text) -> chunk -> Chunk -> store
retrieve -> Hit -> answer -> Passage, Sentence, Answer (with checked Citations)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    id: str  # file stem, stable across re-ingests
    headline: str
    text: str  # body text after cleaning; chunk offsets point into it
    source: str = ""  # path it was read from


@dataclass
class Chunk:
    id: str  # content hash: re-ingesting the same text is an idempotent upsert
    article_id: str
    headline: str
    text: str  # == article.text[start:end]
    start: int
    end: int
    n_tokens: int

    def with_headline(self) -> str:
        """The chunk read in its article's context: the headline, then the text."""
        return f"{self.headline}\n{self.text}"

    def indexed_text(self) -> str:
        """What the chunk is searched and embedded as: the headline gives every later chunk its
        topic; the first chunk already opens with it (rag.clean keeps the headline line)."""
        return self.text if self.start == 0 else self.with_headline()


@dataclass
class Hit:
    """A chunk that retrieval returned, with how it ranked."""

    chunk: Chunk
    score: float  # fused (RRF) score, higher is better
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass
class Passage:
    """What the model was shown as passage [number]: an excerpt of a chunk."""

    number: int
    article_id: str
    headline: str
    text: str  # == cleaned article text[start:end]
    start: int
    end: int
    chunk_id: str


SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
UNCITED = "uncited"


@dataclass
class Citation:
    passage: int  # passage number, as in [n]
    supported: bool
    reason: str = ""  # why the checker decided so, for display and debugging


@dataclass
class Sentence:
    text: str  # without the [n] markers
    citations: list[Citation] = field(default_factory=list)
    withheld: str = ""  # why it is not shown although its citations check out: it does not answer the question

    @property
    def verdict(self) -> str:
        if not self.citations:
            return UNCITED
        return SUPPORTED if any(c.supported for c in self.citations) else UNSUPPORTED

    def to_dict(self) -> dict:
        data = {"text": self.text, "verdict": self.verdict, "citations": [asdict(c) for c in self.citations]}
        if self.withheld:
            data["withheld"] = self.withheld
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Sentence:
        return cls(data["text"], [Citation(**c) for c in data["citations"]], data.get("withheld", ""))


@dataclass
class Answer:
    question: str
    language: str  # "ar" or "en": the language the answer is written in
    text: str  # rendered with [n] markers
    sentences: list[Sentence]
    passages: list[Passage]  # every passage shown to the model, numbered as cited
    abstained: bool = False  # the articles do not contain the answer
    standalone_question: str = ""  # what was searched: a follow-up with the earlier words (quote style) or rewritten (write style)
    retrieved_articles: list[str] = field(default_factory=list)  # articles of the retrieved chunks, best first
    withheld: list[Sentence] = field(default_factory=list)  # checked sentences that do not answer the question
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # rewrite_ms (follow-ups), retrieval_ms, passages_ms, first_token_s, total_s
    usage: dict[str, int | str] = field(default_factory=dict)  # prompt_tokens, answer_tokens (every model call), finish_reason
    raw_output: str = ""  # what the model wrote, before parsing and checking

    @property
    def cut_short(self) -> bool:
        """The model reached max_answer_tokens: the answer may lack what it would have said next."""
        return self.usage.get("finish_reason") == "length"

    @property
    def cited_passages(self) -> list[Passage]:
        numbers = {c.passage for s in self.sentences for c in s.citations}
        return [p for p in self.passages if p.number in numbers]

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "sentences": [sentence.to_dict() for sentence in self.sentences],
            "withheld": [sentence.to_dict() for sentence in self.withheld],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The Answer `to_dict` wrote."""
        fields = {**data}
        fields["passages"] = [Passage(**p) for p in data["passages"]]
        fields["sentences"] = [Sentence.from_dict(s) for s in data["sentences"]]
        fields["withheld"] = [Sentence.from_dict(s) for s in data.get("withheld", [])]
        return cls(**fields)
