"""Benchmarks (`rag bench ...`): timing targets live here, never in unit tests.

Each benchmark measures its variants side by side in one run and reports the
ratio, because this machine is shared and absolute times drift.
"""
from __future__ import annotations

BENCHMARK_MODULES = ("rag.bench.index", "rag.bench.answer", "rag.bench.peer", "rag.bench.scale", "rag.bench.model")


def register(commands, common) -> None:
    bench = commands.add_parser("bench", help="measure ingest, retrieval and answer latency (side by side)")
    which = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for module in BENCHMARK_MODULES:
        __import__(module, fromlist=["add_parsers"]).add_parsers(which, common)
