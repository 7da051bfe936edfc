"""Benchmarks (`rag bench ...`): timing targets live here, never in unit tests.

Each benchmark measures its variants side by side in one run and reports the
ratio, because this machine is shared and absolute times drift. Each is declared
below, and its module is imported only when it runs (`peer` needs llama-index).
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path


def register(commands, common) -> None:
    bench = commands.add_parser("bench", help="measure ingest, retrieval and answer latency (side by side)")
    which = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")

    p = which.add_parser("ingest", parents=[common], help="cold ingest vs incremental re-ingest of the same files")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")])
    p.set_defaults(handler=_runs("rag.bench.index:bench_ingest"))

    p = which.add_parser("retrieval", parents=[common], help="dense vs BM25 vs hybrid: latency per question")
    p.add_argument("--repeat", type=int, default=5)
    p.set_defaults(handler=_runs("rag.bench.index:bench_retrieval"))

    p = which.add_parser(
        "answer", parents=[common], help="first token, first words and total: in this process vs the browser chat"
    )
    p.add_argument("-n", type=int, default=3, help="questions to ask (default 3)")
    p.add_argument("--budgets", help="instead compare two context_tokens budgets in this process, e.g. 300,900")
    p.set_defaults(handler=_runs("rag.bench.answer:bench_answer"))

    p = which.add_parser("peer", parents=[common], help="this project vs a vanilla LlamaIndex pipeline on the gold set")
    p.add_argument("-n", type=int, default=10, help="gold questions, spread over the question types (default 10)")
    p.add_argument("--all", action="store_true", help="every gold question except the follow-ups")
    p.set_defaults(handler=_runs("rag.bench.peer:bench_peer"))

    p = which.add_parser("scale", parents=[common], help="ingest, open and retrieval at 10k and 100k synthetic chunks")
    p.add_argument("--chunks", default="10000,100000", help="index sizes to build, comma-separated (default 10000,100000)")
    p.set_defaults(handler=_runs("rag.bench.scale:bench_scale"))

    p = which.add_parser("model", parents=[common], help="the embedded model's prompt reading and writing speed (tokens/s)")
    p.add_argument("--runs", type=int, default=3)
    p.set_defaults(handler=_runs("rag.bench.model:bench_model"))


@dataclass(frozen=True)
class _runs:
    """The handler of a benchmark: imports "module:function" when the benchmark is run."""

    target: str

    def resolve(self):
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)

    def __call__(self, args) -> int:
        return self.resolve()(args)
