"""`rag bench peer`: this project against a vanilla LlamaIndex pipeline, question by question.

The project spends work a tutorial pipeline does not (hybrid retrieval, an answerability
test, sentence-level passage selection, citation checks) to send the model a small prompt,
because on a CPU the prompt is the latency. This benchmark asks whether that pays: the peer
is what LlamaIndex builds with its defaults (SentenceSplitter(), VectorStoreIndex on Chroma,
CitationQueryEngine top-2), over the same articles and with the same chat model and
embedder, so the only difference is the pipeline. Both answer the same gold questions,
interleaved, and are scored by the eval's own `correct`. Target, reported and not asserted:
our median total time <= 0.6x the peer's.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core import Settings as LlamaSettings
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import CitationQueryEngine
from llama_index.core.schema import BaseNode, QueryBundle
from pydantic import PrivateAttr
from tqdm import tqdm

from rag.arabic import detect_language
from rag.backends import ChatModel, Embedder, Usage
from rag.bench.common import bench_pipeline, machine, print_result
from rag.clean import clean_article
from rag.draft import CITATION_MARKER
from rag.errors import InputError, StoreError
from rag.eval import gold as goldsets
from rag.eval.gold import GoldItem
from rag.eval.metrics import answer_scores
from rag.load import find_article_files, read_article
from rag.types import Answer, Sentence

PEER_TOP_K = 2
TARGET_TOTAL_RATIO = 0.6
# The markers CitationQueryEngine asks for ("[2]", "[1, 2]") and its source labels ("Source 1").
_PEER_CITATION = re.compile(rf"\s*(?:{CITATION_MARKER.pattern}|\bSource\s+\d+)")


# --- the same two models, as llama-index sees them -------------------------------


class ChatModelLLM(CustomLLM):
    """Our ChatModel as a llama-index LLM: the peer's whole prompt goes in as one user message."""

    context_window: int
    num_output: int
    model_name: str
    _chat_model: ChatModel = PrivateAttr()
    _usage: Usage = PrivateAttr(default_factory=Usage)

    def __init__(self, chat_model: ChatModel, *, context_window: int, num_output: int):
        super().__init__(context_window=context_window, num_output=num_output, model_name=chat_model.name)
        self._chat_model = chat_model

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.num_output, model_name=self.model_name)

    @property
    def usage(self) -> Usage:
        """Tokens of every call since reset_usage(): a context too long for one prompt takes several calls."""
        return self._usage

    def reset_usage(self) -> None:
        self._usage = Usage()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
        return CompletionResponse(text="".join(self._pieces(prompt)))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponseGen:
        text = ""
        for piece in self._pieces(prompt):
            text += piece
            yield CompletionResponse(text=text, delta=piece)

    def _pieces(self, prompt: str) -> Iterator[str]:
        call = Usage()
        messages = [ChatMessage(role=MessageRole.USER, content=prompt)]
        yield from self._chat_model.stream(messages, max_tokens=self.num_output, usage=call)
        self._usage.add(call)


class EmbedderEmbedding(BaseEmbedding):
    """Our Embedder as a llama-index embedding; queries and texts keep their own encodings (e5's prefixes)."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder):
        super().__init__(model_name=embedder.name)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._get_text_embeddings(texts)


# --- the peer ----------------------------------------------------------------------


def article_documents(paths: list[Path]) -> list[Document]:
    """The articles as our ingest reads them (loaded, cleaned), one Document each: headline, then text."""
    articles = [clean_article(read_article(path)) for path in find_article_files(paths)]
    return [Document(text=f"{article.headline}\n{article.text}", id_=article.id) for article in articles]


def split_documents(documents: list[Document]) -> list[BaseNode]:
    return SentenceSplitter().get_nodes_from_documents(documents)


def build_peer_engine(nodes: list[BaseNode], llm: ChatModelLLM, embed_model: EmbedderEmbedding, folder: Path) -> CitationQueryEngine:
    """The tutorial pipeline over SentenceSplitter nodes, with our models set everywhere so
    llama-index never reaches for OpenAI."""
    import chromadb  # half a second: paid when the benchmark runs, not by every `rag` command
    from chromadb.config import Settings as ChromaSettings
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.llm = llm
    LlamaSettings.embed_model = embed_model
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    # Chroma is never asked to embed (llama-index sends the vectors), so it never loads a model of its own.
    collection = client.create_collection("peer", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model)
    return CitationQueryEngine.from_args(index, similarity_top_k=PEER_TOP_K, llm=llm, streaming=True)


def peer_configuration(nodes: int) -> dict:
    splitter = SentenceSplitter()
    return {
        "llama_index_core": metadata.version("llama-index-core"),
        "node_parser": f"SentenceSplitter() defaults: chunk_size {splitter.chunk_size}, chunk_overlap {splitter.chunk_overlap}",
        "index": "VectorStoreIndex on a fresh chromadb.PersistentClient collection",
        "query_engine": f"CitationQueryEngine.from_args(similarity_top_k={PEER_TOP_K}, streaming=True), compact mode, its own prompt",
        "documents": "headline + cleaned text of each article",
        "nodes": nodes,
        "models": "ours, through CustomLLM (the prompt as one user message) and BaseEmbedding adapters",
        "scoring": "the eval's `correct`; the peer never declines, so its unanswerable questions score as wrong",
    }


# --- questions and answers ---------------------------------------------------------


def benchmark_questions(items: list[GoldItem], n: int, every: bool) -> list[GoldItem]:
    """Every k-th non-follow-up item, in gold-file order, so the sample crosses the question types.

    Follow-ups are left out: they need a chat history the peer has no way to use."""
    standalone = [item for item in items if not item.history]
    if every:
        return standalone
    if n < 1:
        raise InputError("-n must be at least 1.")
    return standalone[:: max(len(standalone) // n, 1)][:n]


def ask_ours(pipeline, item: GoldItem) -> dict:
    answer = pipeline.ask(item.question)
    return {
        "first_token_s": answer.timings["first_token_s"],
        "total_s": answer.timings["total_s"],
        "prompt_tokens": answer.usage["prompt_tokens"],
        "correct": answer_scores(answer, item)["correct"],
    }


def ask_peer(engine: CitationQueryEngine, llm: ChatModelLLM, item: GoldItem) -> dict:
    llm.reset_usage()
    started = time.perf_counter()
    first_token_s, text = None, ""
    for delta in engine.query(item.question).response_gen:
        if delta and first_token_s is None:
            first_token_s = time.perf_counter() - started
        text += delta
    total_s = time.perf_counter() - started
    return {
        "first_token_s": round(first_token_s if first_token_s is not None else total_s, 3),
        "total_s": round(total_s, 3),
        "prompt_tokens": llm.usage.prompt_tokens,
        "correct": answer_scores(peer_answer(item, text), item)["correct"],
    }


def peer_answer(item: GoldItem, text: str) -> Answer:
    """The peer's reply as the Answer the eval scores.

    The eval reads an answer's sentences without their [n] markers (whose digits are not part
    of the answer), so the peer's text becomes one sentence with its markers removed. The peer
    has no decline step, so its answer never counts as a decline: on a question the articles do
    not answer it scores as wrong, as any answer would; `correct_answerable` leaves those out."""
    plain = _PEER_CITATION.sub("", text).strip()
    return Answer(question=item.question, language=detect_language(text), text=text, sentences=[Sentence(plain)], passages=[])


def warm_up_both(pipeline, engine: CitationQueryEngine, question: str) -> None:
    """Load the models and open both indexes before anything is timed."""
    from rag.eval.runner import ANSWERS, warm_up  # pulls in the pipeline

    warm_up(pipeline, ANSWERS)
    pipeline.retrieve(question)
    engine.retrieve(QueryBundle(question))


def check_index(pipeline, documents: list[Document]) -> None:
    """Our side answers from the configured index: it must hold the articles the peer indexes."""
    indexed = {article.article_id for article in pipeline.articles()}
    missing = sorted({document.doc_id for document in documents} - indexed)
    if not indexed:
        raise StoreError("The index is empty. Run `rag ingest seeds/` first; `rag bench peer` compares against it.")
    if missing:
        raise StoreError(f"The index lacks {len(missing)} seed article(s) ({', '.join(missing)}). Run `rag ingest seeds/` first.")


# --- the run -----------------------------------------------------------------------


def bench_peer(args) -> int:
    items = benchmark_questions(goldsets.load_suite("seeds"), args.n, args.all)
    pipeline = bench_pipeline(args)
    documents = article_documents([goldsets.SEEDS_DIR])
    check_index(pipeline, documents)
    settings = pipeline.settings
    llm = ChatModelLLM(pipeline.chat_model, context_window=settings.num_ctx, num_output=settings.max_answer_tokens)
    nodes = split_documents(documents)
    with tempfile.TemporaryDirectory(prefix="rag-bench-peer-") as folder:
        engine = build_peer_engine(nodes, llm, EmbedderEmbedding(pipeline.embedder), Path(folder))
        warm_up_both(pipeline, engine, items[0].question)
        rows = run_interleaved(items, lambda item: ask_ours(pipeline, item), lambda item: ask_peer(engine, llm, item))
    print_result(report(items, rows, pipeline, peer_configuration(len(nodes))))
    return 0


def run_interleaved(items: list[GoldItem], ours, peer) -> list[dict]:
    """Ours then the peer's on one question, the other way round on the next: neither always runs warm."""
    rows = []
    for number, item in enumerate(tqdm(items, desc="Questions", unit="question")):
        order = [("ours", ours), ("peer", peer)]
        if number % 2:
            order.reverse()
        results = {side: ask(item) for side, ask in order}
        rows.append({"id": item.id, "type": item.type, "answerable": item.answerable, "first": order[0][0],
                     "ours": results["ours"], "peer": results["peer"]})
    return rows


def median(rows: list[dict], side: str, name: str) -> float:
    return statistics.median(row[side][name] for row in rows)


def side_summary(rows: list[dict], side: str) -> dict:
    answerable = [row[side]["correct"] for row in rows if row["answerable"]]
    return {
        "median_first_token_s": round(median(rows, side, "first_token_s"), 2),
        "median_total_s": round(median(rows, side, "total_s"), 2),
        "median_prompt_tokens": median(rows, side, "prompt_tokens"),
        "correct": round(statistics.fmean(row[side]["correct"] for row in rows), 2),
        "correct_answerable": round(statistics.fmean(answerable), 2) if answerable else None,
    }


def report(items: list[GoldItem], rows: list[dict], pipeline, peer: dict) -> dict:
    total_ratio = median(rows, "ours", "total_s") / median(rows, "peer", "total_s")
    first_token_ratio = median(rows, "ours", "first_token_s") / median(rows, "peer", "first_token_s")
    return {
        "questions": len(items),
        "types": dict(Counter(item.type for item in items)),
        "models": {"chat": pipeline.chat_model.name, "embedder": pipeline.embedder.name},
        "machine": machine(),
        "peer": peer,
        "ours": side_summary(rows, "ours"),
        "vanilla_llamaindex": side_summary(rows, "peer"),
        "ours_over_peer": {
            "median_total": round(total_ratio, 2),
            "median_first_token": round(first_token_ratio, 2),
            "per_question_total_median": round(statistics.median(r["ours"]["total_s"] / r["peer"]["total_s"] for r in rows), 2),
        },
        "target": f"ours median total <= {TARGET_TOTAL_RATIO}x the peer's",
        "target_met": total_ratio <= TARGET_TOTAL_RATIO,
        "per_question": rows,
    }
