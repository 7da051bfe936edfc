"""The figures of docs/reliability.md: each reliability test counts its cases and failures here.

`record` prints one line (`reliability: <check>: N cases, M failures`, shown with `pytest -s`)
and writes test-artifacts/reliability/<check>.json with the details of every failure,
so a failing run says which cases failed and a passing one leaves its count behind.
"""
from __future__ import annotations

import json
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reliability"


def record(check: str, cases: int, failures: list, **details) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{check}.json").write_text(
        json.dumps({"check": check, "cases": cases, "failures": len(failures), "failed": failures, **details},
                   ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    print(f"\nreliability: {check}: {cases} cases, {len(failures)} failures")
