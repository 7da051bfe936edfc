"""The regression gate: a baseline (committed under eval/baselines/) and the check of a run against it.

A baseline names the suite, mode and question selection it was made with, the overall
metrics, and for each gated metric how far it may drop (absolute) before the gate fails:
its tolerance, declared with the metric in rag.eval.metrics.METRICS.
"""
from __future__ import annotations

import json
from pathlib import Path

from rag.errors import InputError
from rag.eval.metrics import METRICS, answer_first
from rag.eval.run import MODES, RunRecord

GATE_FAILED = 3
TOLERANCES = {
    mode: {m.name: m.tolerance[mode] for m in answer_first(METRICS) if mode in m.tolerance} for mode in MODES
}


def make_baseline(record: RunRecord, tolerances: dict[str, float] | None = None) -> dict:
    overall = record.metrics["overall"]
    gated = tolerances or TOLERANCES[record.mode]
    config = record.config
    return {
        "suite": record.suite,
        "mode": record.mode,
        "ids": record.selection["ids"],
        "limit": record.selection["limit"],
        "questions": record.metrics["questions"],
        "run_id": record.run_id,
        "settings": {k: config["settings"][k] for k in ("backend", "embedder", "top_k", "chunk_tokens", "context_tokens")},
        "chat_model": config["chat_model"],
        "embedder": config["embedder"],
        "metrics": overall,
        "tolerances": {name: tolerance for name, tolerance in gated.items() if name in overall},
    }


def write_baseline(record: RunRecord, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(make_baseline(record), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_baseline(path: Path) -> dict:
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"Cannot read the baseline {path}: {exc}.") from None
    missing = {"suite", "mode", "metrics", "tolerances"} - set(baseline)
    if missing:
        raise InputError(f"{path} is not a baseline: it lacks {', '.join(sorted(missing))}.")
    return baseline


def check(record: RunRecord, baseline: dict) -> list[str]:
    """One message per gated metric that dropped beyond its tolerance; empty when the run passes."""
    if (record.suite, record.mode) != (baseline["suite"], baseline["mode"]):
        raise InputError(
            f"The baseline is for {baseline['suite']}/{baseline['mode']}, the run is {record.suite}/{record.mode}."
        )
    overall = record.metrics["overall"]
    failures = []
    for name, tolerance in baseline["tolerances"].items():
        expected = baseline["metrics"].get(name)
        actual = overall.get(name)
        if expected is None:
            continue
        if actual is None:
            failures.append(f"{name}: missing from the run (baseline {expected:.3f})")
        elif actual < expected - tolerance - 1e-9:
            failures.append(f"{name} dropped from {expected:.3f} to {actual:.3f} (tolerance {tolerance:.3f})")
    return failures
