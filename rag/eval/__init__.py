"""Evaluation: run gold questions through the same Pipeline the CLI and chat use, score, record, gate.

gold     the question sets (hand-written seeds, ARCD, hostile) as GoldItems
metrics  the metrics, declared once, and per-question scores and their averages (pure functions)
run      a run record (RunRecord) and the run modes
runner   builds the suite's index, asks every question, returns a run record
records  run records on disk under settings.runs_dir: save, list, resolve
report   the Markdown report of a run and the comparison of two runs
gate     baselines under eval/baselines/ and the regression check
history  a chart of the main metrics across runs
cli      `rag eval ...`
promote  a logged answer drafted into a gold item (`rag logs promote`)
planted  what following a planted instruction looks like (the hostile suite)
"""
