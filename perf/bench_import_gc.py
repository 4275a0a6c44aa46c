"""A job's start-up with the garbage collector on and off during its imports (session 21).

    .venv/bin/python perf/bench_import_gc.py [--repeat 5] [script ...]

For each named script (default: the tiny study's model-loading ones and the slow light
ones), a fresh interpreter runs what `perf/job_seconds.py` times for that rule (Snakemake's
script preamble, the script's statements before `joblog.from_snakemake`, the imports its
project modules defer, then `joblog.freeze_imports`), once as the script does it (the
collector off until the freeze) and once with the collector on throughout, as the scripts
did before. The two alternate, so that a machine whose speed drifts (1.5x within an hour
here) slows both alike; the medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from job_seconds import PREAMBLE, ROOT, SETUP, imports

SCRIPTS = ["merge_evaluate", "evaluate_expert", "pretrain_torch", "init_model", "lang2vec_distance",
           "train_tokenizer", "parametric_similarity"]
OFF = "import gc; gc.disable(); "


def run(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scripts", nargs="*", default=SCRIPTS)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    print("| script | collector on | off until the freeze | saved |")
    print("| --- | --: | --: | --: |")
    for name in args.scripts:
        code = imports(ROOT / "scripts" / f"{name}.py")
        if not code.startswith(OFF):
            sys.exit(f"scripts/{name}.py does not turn the collector off first")
        off = f"{PREAMBLE}; {code}; {SETUP}"
        on = f"{PREAMBLE}; {code.removeprefix(OFF)}; {SETUP}"  # freeze_imports' gc.enable: a no-op
        times: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(args.repeat):
            times["on"].append(run(on))
            times["off"].append(run(off))
        a, b = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"| `{name}` | {a:.2f} s | {b:.2f} s | {a - b:.2f} s ({100 * (a - b) / a:.0f}%) |", flush=True)


if __name__ == "__main__":
    main()
