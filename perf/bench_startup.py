"""Start-up of a job process: what each kind of job imports before it does any work.

    .venv/bin/python perf/bench_startup.py [--repeat 3]

Every job is its own process, so each pays for its imports. This times a fresh interpreter
importing exactly what each job script imports (median of --repeat runs, page cache warm),
and the two designs for a merged model: a merge job and an evaluation job (two processes)
against merge_evaluate (one). Figures are recorded in perf/README.md.
"""

import argparse
import statistics
import subprocess
import sys
import time

SNAKEMAKE = "import snakemake.script"  # what the script preamble Snakemake writes imports
JOBS = {
    "python alone": "pass",
    "a light job (pandas, tables)": f"{SNAKEMAKE}; import pandas; from mergelimits import joblog, tables",
    "pretrain_torch": f"{SNAKEMAKE}; from mergelimits import joblog, model, train",
    "activations": f"{SNAKEMAKE}; from mergelimits import analysis, similarity; import transformers; "
                   "from transformers import AutoModelForCausalLM",
    "evaluate_model": f"{SNAKEMAKE}; from mergelimits import evaluate; import lm_eval.evaluator, "
                      "lm_eval.models.huggingface, lm_eval.tasks",
    "a merge alone (the old merge_models)": f"{SNAKEMAKE}; from mergelimits import merge; import mergekit.merge, "
                                            "mergekit.config",
    "merge_evaluate": f"{SNAKEMAKE}; from mergelimits import evaluate, merge; import mergekit.merge, "
                      "mergekit.config, lm_eval.evaluator, lm_eval.models.huggingface, lm_eval.tasks",
}


def timed(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    timed(JOBS["merge_evaluate"])  # warm the page cache
    out = {}
    for name, code in JOBS.items():
        out[name] = statistics.median(timed(code) for _ in range(args.repeat))
        print(f"{name:40s}{out[name]:6.2f} s")
    two = out["a merge alone (the old merge_models)"] + out["evaluate_model"]
    print(f"\na merged model, merge and evaluation as two processes: {two:.2f} s of start-up; "
          f"as one (merge_evaluate): {out['merge_evaluate']:.2f} s")


if __name__ == "__main__":
    main()
