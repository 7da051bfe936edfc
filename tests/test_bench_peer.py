"""`rag bench peer`: the adapters that put our two models into a vanilla LlamaIndex pipeline,
and that pipeline end to end over a real Chroma, with a scripted chat model and a hashing
embedder in place of the real ones (the benchmark's timings are not tested here)."""
import asyncio
import hashlib
import math
import re

import numpy as np

from rag.bench.peer import (
    ChatModelLLM,
    EmbedderEmbedding,
    article_documents,
    ask_peer,
    benchmark_questions,
    build_peer_engine,
    peer_answer,
    split_documents,
)
from rag.eval.gold import GoldItem, load_suite
from rag.eval.metrics import answer_scores

ANSWER_PIECES = ["قتل أو أصيب ", "نحو 4000", " جندي كوري شمالي [1]."]


class ScriptedChatModel:
    """The ChatModel protocol: every prompt gets the same pieces; one prompt token per word."""

    name = "scripted"

    def __init__(self, pieces):
        self.pieces = pieces
        self.calls = []  # (messages, max_tokens)

    def stream(self, messages, *, schema=None, max_tokens=512, usage=None):
        self.calls.append((messages, max_tokens))
        if usage is not None:
            usage.prompt_tokens += len(messages[-1].content.split())
            usage.answer_tokens += len(self.pieces)
        yield from self.pieces

    def status(self):
        return f"{self.name}: ready"


class HashingEmbedder:
    """The Embedder protocol: each word hashed into a bucket, so texts sharing words are near.

    Like e5, a query and a passage are encoded with different prefixes."""

    name = "hashing"
    dimension = 256

    def embed_passages(self, texts):
        return np.array([self._vector(f"passage {text}") for text in texts])

    def embed_queries(self, texts):
        return np.array([self._vector(f"query {text}") for text in texts])

    def _vector(self, text):
        vector = [0.0] * self.dimension
        for word in re.findall(r"\w+", text):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector]


def test_the_llm_adapter_streams_what_the_chat_model_yields_and_reports_its_usage():
    chat = ScriptedChatModel(ANSWER_PIECES)
    llm = ChatModelLLM(chat, context_window=4096, num_output=320)

    assert [response.delta for response in llm.stream_complete("سؤال من ثلاث كلمات")] == ANSWER_PIECES
    assert llm.complete("سؤال من ثلاث كلمات").text == "".join(ANSWER_PIECES)

    (messages, max_tokens), _ = chat.calls
    assert [(m.role.value, m.content) for m in messages] == [("user", "سؤال من ثلاث كلمات")]
    assert max_tokens == 320
    assert (llm.usage.prompt_tokens, llm.usage.answer_tokens) == (8, 6)  # both calls
    assert (llm.metadata.context_window, llm.metadata.num_output, llm.metadata.model_name) == (4096, 320, "scripted")
    llm.reset_usage()
    assert llm.usage.prompt_tokens == 0


def test_the_embedding_adapter_returns_query_vectors_for_queries_and_passage_vectors_for_texts():
    embedder = HashingEmbedder()
    embedding = EmbedderEmbedding(embedder)
    (query,), (passage,) = embedder.embed_queries(["كورسك"]).tolist(), embedder.embed_passages(["كورسك"]).tolist()

    assert query != passage
    assert embedding.get_query_embedding("كورسك") == query
    assert embedding.get_text_embedding("كورسك") == passage
    assert embedding.get_text_embedding_batch(["كورسك", "موسكو"]) == embedder.embed_passages(["كورسك", "موسكو"]).tolist()
    assert asyncio.run(embedding.aget_query_embedding("كورسك")) == query
    assert asyncio.run(embedding.aget_text_embedding("كورسك")) == passage


def test_the_peer_engine_answers_with_the_models_text_from_the_top_two_articles(tmp_path):
    # Three articles, so that keeping two of them shows the top-2 cut.
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "troops.txt").write_text("الجنود الكوريون\nقتل أو أصيب نحو 4000 جندي كوري شمالي في كورسك.\n", encoding="utf-8")
    (articles / "bank.txt").write_text("البنك الزراعي\nطالبت روسيا برفع العقوبات عن البنك الزراعي.\n", encoding="utf-8")
    (articles / "weather.txt").write_text("طقس موسكو\nكان الطقس باردا هذا الأسبوع.\n", encoding="utf-8")
    chat = ScriptedChatModel(ANSWER_PIECES)
    llm = ChatModelLLM(chat, context_window=4096, num_output=320)
    nodes = split_documents(article_documents([articles]))
    engine = build_peer_engine(nodes, llm, EmbedderEmbedding(HashingEmbedder()), tmp_path / "chroma")

    response = engine.query("كم جندي كوري قتل في كورسك بعد العقوبات؟")

    assert "".join(response.response_gen) == "".join(ANSWER_PIECES)
    assert [source.node.ref_doc_id for source in response.source_nodes] == ["troops", "bank"]
    ((messages, _),) = chat.calls
    prompt = messages[-1].content
    assert "Source 1:\nالجنود الكوريون" in prompt and "Source 2:\nالبنك الزراعي" in prompt
    assert "الطقس" not in prompt

    item = GoldItem(id="t", question="كم جندي؟", language="ar", type="numeric", gold_articles=["troops"],
                    required_facts=[["4000", "٤٠٠٠"]])
    row = ask_peer(engine, llm, item)
    assert row["correct"] == 1.0
    assert row["prompt_tokens"] == len(chat.calls[-1][0][-1].content.split())


def test_a_peer_citation_marker_is_not_read_as_a_fact():
    item = GoldItem(id="t", question="كم صاروخا؟", language="ar", type="numeric", gold_articles=["a"], required_facts=[["2"]])
    assert answer_scores(peer_answer(item, "أطلقت صواريخ كثيرة [2]."), item)["correct"] == 0.0
    assert answer_scores(peer_answer(item, "أطلق صاروخان اثنان، 2 [1]."), item)["correct"] == 1.0


def test_the_questions_skip_follow_ups_and_cross_the_question_types():
    items = load_suite("seeds")
    standalone = [item for item in items if not item.history]
    chosen = benchmark_questions(items, 10, every=False)

    assert len(chosen) == 10 and all(item in standalone for item in chosen)
    assert [standalone.index(item) for item in chosen] == sorted(standalone.index(item) for item in chosen)
    assert len({item.type for item in chosen}) >= 5
    assert benchmark_questions(items, 10, every=True) == standalone
