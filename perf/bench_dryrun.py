"""Time of a dry run of the full study with the LUMI profile, and its jobs per rule.

    .venv/bin/python perf/bench_dryrun.py

apptainer is absent here, so env-modules stands in as the deployment method (as in
`make dry-run`). Goal: ≤ 10 s.
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--snakefile",
                           str(ROOT / "Snakefile"), "--configfile", str(ROOT / "config/paper.yaml"), "--profile",
                           str(ROOT / "profiles/lumi"), "--sdm", "env-modules", "--directory", tmp],
                          capture_output=True, text=True)
    dt = time.perf_counter() - t0
if proc.returncode:
    sys.exit(proc.stderr[-2000:])
counts = dict(re.findall(r"^(\S+)\s+(\d+)$", proc.stdout, re.M))
total = counts.pop("total")
for rule, n in counts.items():
    print(f"{rule:24s}{n:>6}")
print(f"{'total':24s}{total:>6}\ndry run of the paper config with the LUMI profile: {dt:.1f} s")
