"""Evaluation speed on CPU, and one model load per evaluated model in a study run.

    .venv/bin/python perf/bench_evaluate.py [--study results/tiny] [--logs logs/tiny]

Reads what a finished study run recorded: each evaluate_model job's wall time
(benchmarks/) and item count (its scores.tsv), and the harness calls in its log. Prints
items/s per job and overall, and fails if any model was loaded more than once.
"""

import argparse
import re
import sys
from pathlib import Path

import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--study", default="results/tiny")
    ap.add_argument("--logs", default="logs/tiny")
    ap.add_argument("--benchmarks", default="benchmarks/tiny")
    args = ap.parse_args()
    rows = []
    for scores in sorted(Path(args.study, "eval").glob("*/step~*/scores.tsv")):
        model, step = scores.parts[-3], scores.parts[-2]
        bench = Path(args.benchmarks, "evaluate", model, f"{step}.tsv")
        log = Path(args.logs, "evaluate", model, f"{step}.log")
        items = sum(1 for _ in open(scores)) - 1
        calls = len(re.findall(r"harness call:", log.read_text())) if log.exists() else None
        wall = pd.read_csv(bench, sep="\t")["s"].iloc[0] if bench.exists() else float("nan")
        rows.append({"model": model, "step": step, "items": items, "seconds": wall, "items/s": items / wall,
                     "harness calls": calls})
    if not rows:
        sys.exit(f"no evaluations under {args.study}/eval: run the study first")
    df = pd.DataFrame(rows)
    print(df.sort_values("seconds", ascending=False).head(8).to_string(index=False))
    print(f"\n{len(df)} evaluations, {df['items'].sum()} items in {df['seconds'].sum():.0f} s of job time: "
          f"{df['items'].sum() / df['seconds'].sum():.1f} items/s")
    bad = df[df["harness calls"] != 1]
    if len(bad):
        sys.exit(f"models not loaded exactly once: {bad[['model', 'step', 'harness calls']].to_dict('records')}")
    print("every model was loaded once (one harness call per evaluation job)")


if __name__ == "__main__":
    main()
