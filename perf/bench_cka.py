"""CKA from the cache against the activation pass that fills it, from a finished run.

    .venv/bin/python perf/bench_cka.py [--benchmarks benchmarks/tiny]

Activations are computed once per model (N forward passes for N models); CKA of every
pair and layer is then computed from the cache. Prints both times and their ratio.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--benchmarks", default="benchmarks/tiny")
    ap.add_argument("--results", default="results/tiny")
    args = ap.parse_args()
    root = Path(args.benchmarks, "analysis")
    acts = sorted(root.glob("activations/*.tsv"))
    cka = root / "cka.tsv"
    if not acts or not cka.exists():
        sys.exit(f"no activation or CKA timings under {root}: run the study first")
    t_act = sum(pd.read_csv(p, sep="\t")["s"].iloc[0] for p in acts)
    t_cka = pd.read_csv(cka, sep="\t")["s"].iloc[0]
    print(f"activation pass: {len(acts)} models (one job each, {len(acts)} forward passes) in {t_act:.1f} s")
    print(f"CKA job (start-up included): {t_cka:.1f} s ({t_cka / t_act:.0%} of the activation pass)")
    import time

    import numpy as np

    from mergelimits import cka

    t0, n = time.perf_counter(), 0
    for variant in ("eng", "own"):
        cache = {p.parent.name: np.load(p) for p in Path(args.results, "analysis/activations").glob(f"*/{variant}.npy")}
        n += len(cka.cka_pairs(cache))
    dt = time.perf_counter() - t0
    print(f"CKA computation alone, {n} pair-layers from the cache: {dt:.3f} s ({dt / t_act:.1%} of the activation pass)")


if __name__ == "__main__":
    main()
