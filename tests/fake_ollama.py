"""A FAKE Ollama server for tests. It is not Ollama and runs no model.

It speaks the small part of Ollama's HTTP API the assistant uses (/api/tags,
/api/pull, /api/chat, /api/embed, /api/version) on 127.0.0.1 at a random free
port, never Ollama's 11434. Every response carries `X-Fake-Ollama:
this-is-a-test-fake` and /api/version answers "0.0.0-fake", so nobody can take
it for the real server. Bodies are built from, and requests parsed with, the
`ollama` package's own pydantic types, so a request our client could not have
sent correctly fails with a 400.

Chat replies are scripted with `reply_with`; embeddings are hashed character
trigrams, so texts that share words get similar vectors. `fail_next_chat` makes the
next chat reply fail the way a real server can (see FAULTS): the connection drops
mid-stream, the server hangs, a line is not JSON, or it answers HTTP 500.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ollama._types import (
    ChatRequest,
    ChatResponse,
    EmbedRequest,
    EmbedResponse,
    ListResponse,
    Message,
    ModelDetails,
    Options,
    ProgressResponse,
    PullRequest,
)
from pydantic import BaseModel, ValidationError

FAKE_HEADER = "X-Fake-Ollama"
FAKE_HEADER_VALUE = "this-is-a-test-fake"
FAKE_VERSION = "0.0.0-fake"
REAL_OLLAMA_PORT = 11434
LAYER_SIZES = (3_000_000, 1_200)  # bytes of the fake layers a pull "downloads"
DOWNLOAD_STEPS = 4

FAULTS = {
    "drop": "streams the first chunks, then closes the connection without finishing the reply",
    "hang": "streams the first chunks (none: not even the headers), then sends nothing more",
    "malformed-json": "streams the first chunks, then a line that is not JSON",
    "http-500": "answers HTTP 500 with Ollama's error body",
    "http-500-empty": "answers HTTP 500 with an empty body",
}
RUNNER_CRASHED = "llama runner process has terminated: signal: killed"  # what a real Ollama 500 says
HANG_LIMIT_SECONDS = 60  # a hanging reply gives up by itself at the latest after this long


def full_name(model: str) -> str:
    """Ollama's implicit tag: `bge-m3` is `bge-m3:latest`."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


def fake_embedding(text: str, dimension: int) -> list[float]:
    """Unit vector of hashed character trigrams (crc32: stable across processes)."""
    vector = [0.0] * dimension
    padded = f"  {text.lower()} "
    for i in range(len(padded) - 2):
        vector[zlib.crc32(padded[i : i + 3].encode()) % dimension] += 1.0
    norm = math.hypot(*vector) or 1.0
    return [x / norm for x in vector]


class RequestRejected(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status = status
        self.error = error


@dataclass
class FaultyReply:
    """A chat reply that goes wrong the way `fault` says, after `after_chunks` good chunks."""

    chunks: list[ChatResponse]
    fault: str
    after_chunks: int


class FakeOllamaServer:
    """A test fake of Ollama; use as a context manager: `with FakeOllamaServer() as fake:`."""

    def __init__(
        self,
        installed: tuple[str, ...] = ("qwen2.5:7b-instruct", "bge-m3"),
        library: tuple[str, ...] = ("qwen2.5:7b-instruct", "bge-m3"),
        embedding_dimension: int = 64,
    ):
        self.installed = {full_name(m) for m in installed}
        self.library = {full_name(m) for m in library} | self.installed  # what /api/pull can fetch
        self.embedding_dimension = embedding_dimension
        self.requests: list[tuple[str, dict | None]] = []
        self._replies: deque[str] = deque()
        self._faults: deque[tuple[str, int]] = deque()
        self.stopping = threading.Event()  # ends hanging replies
        self.chunk_delay = 0.0  # seconds between the chunks of a streamed reply: a slow model
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        if self.port == REAL_OLLAMA_PORT:
            self._httpd.server_close()
            raise RuntimeError("the fake must never take the real Ollama port; run the test again")
        self.host = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-ollama", daemon=True
        )

    def __enter__(self) -> FakeOllamaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def reply_with(self, text: str) -> None:
        """Queue the text of the next chat reply."""
        self._replies.append(text)

    def forget(self) -> None:
        """Start afresh for the next test: no requests seen, no reply or fault queued."""
        self.requests.clear()
        self._replies.clear()
        self._faults.clear()

    def fail_next_chat(self, fault: str, *, after_chunks: int = 3) -> None:
        """Make the next streamed chat reply (scripted or default) fail the way FAULTS[fault] says;
        the replies after it behave."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        self._faults.append((fault, after_chunks))

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    # --- endpoints: each returns a pydantic response, a list of them (streamed), or a dict

    def tags(self) -> ListResponse:
        details = ModelDetails(format="gguf", family="fake", parameter_size="0B", quantization_level="none")
        return ListResponse(
            models=[
                ListResponse.Model(
                    model=name,
                    modified_at=datetime.now(timezone.utc),
                    digest=hashlib.sha256(name.encode()).hexdigest(),
                    size=sum(LAYER_SIZES),
                    details=details,
                )
                for name in sorted(self.installed)
            ]
        )

    def pull(self, body: dict) -> list[BaseModel] | BaseModel:
        request = _parse(PullRequest, body)
        name = full_name(request.model)
        if name not in self.library:
            # The real server has already streamed "pulling manifest" when the registry says no.
            error = "pull model manifest: file does not exist"
            if request.stream is False:
                raise RequestRejected(500, error)
            return [ProgressResponse(status="pulling manifest"), _Error(error=error)]
        progress = [ProgressResponse(status="pulling manifest")]
        for layer, total in enumerate(LAYER_SIZES):
            digest = "sha256:" + hashlib.sha256(f"{name}/{layer}".encode()).hexdigest()
            for step in range(1, DOWNLOAD_STEPS + 1):
                progress.append(
                    ProgressResponse(
                        status=f"pulling {digest[7:19]}",
                        digest=digest,
                        total=total,
                        completed=total * step // DOWNLOAD_STEPS,
                    )
                )
        progress += [ProgressResponse(status=s) for s in ("verifying sha256 digest", "writing manifest", "success")]
        self.installed.add(name)
        return progress if request.stream is not False else progress[-1]

    def chat(self, body: dict) -> list[ChatResponse] | ChatResponse | FaultyReply:
        request = _parse(ChatRequest, body)
        messages = [_parse(Message, dict(m)) for m in request.messages or []]
        options = request.options or {}
        unknown = set(options) - set(Options.model_fields)
        if unknown:
            raise RequestRejected(400, f"fake ollama: unknown options {sorted(unknown)}")
        self._require_installed(request.model)

        text = self._replies.popleft() if self._replies else self._default_reply(messages, request.format)
        pieces = re.findall(r"\s*\S+", text) or [text]
        done_reason = "stop"
        if options.get("num_predict") and len(pieces) > options["num_predict"]:
            pieces, done_reason = pieces[: options["num_predict"]], "length"
        stamp = datetime.now(timezone.utc).isoformat()
        final = ChatResponse(
            model=request.model,
            created_at=stamp,
            message=Message(role="assistant", content=""),
            done=True,
            done_reason=done_reason,
            prompt_eval_count=sum(len((m.content or "").split()) for m in messages),
            eval_count=len(pieces),
        )
        if request.stream is False:
            final.message.content = "".join(pieces)
            return final
        chunks = [
            ChatResponse(model=request.model, created_at=stamp, message=Message(role="assistant", content=piece), done=False)
            for piece in pieces
        ]
        if self._faults:
            fault, after_chunks = self._faults.popleft()
            return FaultyReply(chunks + [final], fault, after_chunks)
        return chunks + [final]

    def embed(self, body: dict) -> EmbedResponse:
        request = _parse(EmbedRequest, body)
        self._require_installed(request.model)
        texts = [request.input] if isinstance(request.input, str) else list(request.input)
        return EmbedResponse(
            model=request.model,
            embeddings=[fake_embedding(t, self.embedding_dimension) for t in texts],
            prompt_eval_count=sum(len(t.split()) for t in texts),
        )

    def _require_installed(self, model: str) -> None:
        if full_name(model) not in self.installed:
            raise RequestRejected(404, f'model "{model}" not found, try pulling it first')

    @staticmethod
    def _default_reply(messages: list[Message], schema) -> str:
        question = next((m.content or "" for m in reversed(messages) if m.role == "user"), "")
        if schema:
            answer = {"found": True, "sentences": [{"text": question[:200], "passages": [1]}]}
            return json.dumps(answer, ensure_ascii=False)
        return question


class _Error(BaseModel):
    error: str


def _parse(model_type: type[BaseModel], body: dict | None):
    try:
        return model_type.model_validate(body or {})
    except ValidationError as exc:
        raise RequestRejected(400, f"fake ollama: bad {model_type.__name__}: {exc}") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, like Ollama
    timeout = 10  # idle keep-alive connections let their thread go

    def do_GET(self) -> None:
        self._dispatch({"/api/tags": lambda _: self.fake.tags(), "/api/version": lambda _: {"version": FAKE_VERSION}})

    def do_POST(self) -> None:
        self._dispatch({"/api/pull": self.fake.pull, "/api/chat": self.fake.chat, "/api/embed": self.fake.embed})

    @property
    def fake(self) -> FakeOllamaServer:
        return self.server.fake

    def _dispatch(self, routes: dict) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        self.fake.requests.append((self.path, body))
        if raw and body is None:
            return self._send_json(400, {"error": "fake ollama: request body is not JSON"})
        if self.path not in routes:
            return self._send_json(404, {"error": f"fake ollama: no route {self.command} {self.path}"})
        try:
            result = routes[self.path](body)
        except RequestRejected as exc:
            return self._send_json(exc.status, {"error": exc.error})
        if isinstance(result, FaultyReply):
            self._misbehave(result)
        elif isinstance(result, list):
            self._stream(result)
        else:
            self._send_json(200, result)

    def _start(self, status: int, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header(FAKE_HEADER, FAKE_HEADER_VALUE)
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_json(self, status: int, payload: BaseModel | dict) -> None:
        data = (payload.model_dump_json(exclude_none=True) if isinstance(payload, BaseModel) else json.dumps(payload)).encode()
        self._start(status, "application/json; charset=utf-8", {"Content-Length": str(len(data))})
        self.wfile.write(data)

    def _stream(self, parts: list[BaseModel]) -> None:
        self._start(200, "application/x-ndjson", {"Transfer-Encoding": "chunked"})
        for part in parts:
            self._write_line(part.model_dump_json(exclude_none=True).encode())
            time.sleep(self.fake.chunk_delay)
        self.wfile.write(b"0\r\n\r\n")

    def _write_line(self, line: bytes) -> None:
        """One line of a chunked ndjson stream, sent at once."""
        line += b"\n"
        self.wfile.write(b"%X\r\n%s\r\n" % (len(line), line))
        self.wfile.flush()

    def _misbehave(self, reply: FaultyReply) -> None:
        if reply.fault == "http-500":
            return self._send_json(500, {"error": RUNNER_CRASHED})
        if reply.fault == "http-500-empty":
            return self._start(500, "text/plain", {"Content-Length": "0"})
        self.close_connection = True  # whatever happens next, this connection is done
        if reply.fault == "hang" and reply.after_chunks == 0:
            self.fake.stopping.wait(HANG_LIMIT_SECONDS)
            return
        self._start(200, "application/x-ndjson", {"Transfer-Encoding": "chunked"})
        for chunk in reply.chunks[: reply.after_chunks]:
            self._write_line(chunk.model_dump_json(exclude_none=True).encode())
        if reply.fault == "hang":
            self.fake.stopping.wait(HANG_LIMIT_SECONDS)
        elif reply.fault == "malformed-json":
            self._write_line(b'{"model": "qwen2.5:7b-instruct", "message": {"role": "assis')
            self.wfile.write(b"0\r\n\r\n")
        # "drop": return without the closing chunk; the server then closes the socket

    def log_message(self, format, *args) -> None:
        pass  # keep pytest output clean
