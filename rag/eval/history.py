"""A PNG chart of the main metrics across runs: one panel per suite, mode and question count, oldest run first."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rag.errors import InputError
from rag.eval.metrics import METRICS, answer_first
from rag.eval.run import MODES, RunRecord

MAIN_METRICS = {mode: [m.name for m in answer_first(METRICS) if mode in m.charted] for mode in MODES}


def plot_history(records: list[RunRecord], out: Path) -> Path:
    try:
        import matplotlib
    except ImportError:
        raise InputError("Charts need matplotlib, an optional extra: `pip install -e '.[plot]'`.") from None

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    groups = defaultdict(list)
    for record in records:  # runs over different question selections are not comparable
        groups[(record.suite, record.mode, record.metrics["questions"])].append(record)
    if not groups:
        raise InputError("No eval runs to chart yet; start one with `rag eval`.")
    figure, axes = plt.subplots(len(groups), 1, figsize=(10, 3.6 * len(groups)), squeeze=False)
    for axis, ((suite, mode, questions), runs) in zip(axes[:, 0], sorted(groups.items())):
        positions = range(len(runs))
        for name in MAIN_METRICS[mode]:
            values = [run.metrics["overall"].get(name) for run in runs]
            if any(v is not None for v in values):
                axis.plot(positions, [float("nan") if v is None else v for v in values], marker="o", label=name)
        axis.set_title(f"{suite} · {mode} · {questions} questions")
        axis.set_ylim(0, 1.05)
        axis.set_xticks(list(positions), [run.run_id[:16] for run in runs], rotation=30, ha="right", fontsize=7)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower left", fontsize=7, ncol=4)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
