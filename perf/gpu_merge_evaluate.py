"""merge_evaluate on a GPU: the tiny study's merges done by mergekit on the device and
evaluated there by lm-eval, against the CPU results of `make study`.

    python perf/gpu_merge_evaluate.py [results/tiny] [out_dir]

Needs a finished tiny study (its experts, init, task YAMLs and data) and a CUDA or ROCm
GPU. For each Merged10 method at the final step it merges on the GPU (fp32 and bf16),
evaluates on the GPU and prints, per benchmark, the score against the CPU run's
`eval/aggregate.tsv`, the share of items whose per-item score matches, and the wall times.
Linear and TIES are deterministic, so their fp32 scores should match the CPU's; DARE's
drops come from the device's generator (merge.json records the device), so they may not.
"""

import json
import sys
import time
from pathlib import Path

import pandas as pd

from mergelimits import benchmarks, evaluate, joblog, merge, modelid
from mergelimits.model import device


def main(results: str = "results/tiny", out: str = "gpu-merges") -> None:
    joblog.setup()
    joblog.check_gpu("gpu_merge_evaluate", 1)
    results, out = Path(results), Path(out)
    store = pd.read_csv(results / "eval/aggregate.tsv", sep="\t")
    final = int(store.step.max())
    monos = sorted(p.name for p in (results / "models").glob("mono-*"))
    members = [results / "models" / m / f"step~{final}" for m in monos]
    cpu_items = pd.concat(pd.read_csv(p, sep="\t") for p in (results / "eval").glob(f"*-all*/step~{final}/scores.tsv"))
    for method in ("linear", "ties", "dare_ties"):
        model = modelid.merged_all(method, len(monos))
        tasks = sorted({f"ml_{b}_{lang}" for b, lang in store[(store.model == model) & (store.step == final)]
                        [["benchmark", "lang"]].itertuples(index=False)})
        for dtype in ("float32", "bfloat16"):
            t0 = time.perf_counter()
            rec = merge.run(method, members, out / f"{model}-{dtype}", base=results / "models/init", density=0.75,
                            seed=1, dtype=dtype, options={"device": device()})
            t_merge = time.perf_counter() - t0
            t0 = time.perf_counter()
            df = evaluate.evaluate_to_files(out / f"{model}-{dtype}", model, final, tasks, results / "eval/tasks", 64, 1,
                                            out / f"{model}-{dtype}.tsv", out / f"{model}-{dtype}.jsonl")
            t_eval = time.perf_counter() - t0
            cpu = cpu_items[cpu_items.model == model].set_index(["benchmark", "lang", "item"])
            gpu = df.set_index(["benchmark", "lang", "item"])
            for bench, g in gpu.groupby(level=0):
                col = benchmarks.get(bench).metric
                c = cpu.loc[g.index, col]
                same = float((g[col].round(6) == c.round(6)).mean())
                scale = 1 if bench == "flores" else 100  # sentence chrF++ is in points already
                print(json.dumps({"model": model, "dtype": dtype, "device": rec["device"], "benchmark": bench,
                                  "gpu": round(scale * g[col].mean(), 2), "cpu": round(scale * c.mean(), 2),
                                  "items_equal": round(same, 4), "merge_s": round(t_merge, 2),
                                  "evaluate_s": round(t_eval, 2)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
