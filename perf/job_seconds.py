"""Where a run's job time goes, per rule, and how much of it is start-up (issue 31).

    .venv/bin/python perf/job_seconds.py [.snakemake/log/<run>.snakemake.log] [--repeat 3]

Job-seconds come from Snakemake's own log of the run (the newest under .snakemake/log/
unless one is named): each job from the timestamp of its start to that of its "Finished
jobid" line, to the second. Start-up is measured, not inferred: for each rule, a fresh
interpreter imports what its script imports (Snakemake's script preamble, then every
top-level statement of the script before `joblog.from_snakemake`: the garbage collector
turned off, then the imports; then what `joblog.from_snakemake` does before the work,
freezing those imports out of the collector's reach; median of --repeat runs, page cache
warm), which is what a job of that rule pays before any work and at its exit. A rule
run by `shell:` (the training launcher) is timed by its own log only.
"""

from __future__ import annotations

import argparse
import ast
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREAMBLE = "import snakemake.script"  # what the script preamble Snakemake writes imports
SETUP = "from mergelimits import joblog; joblog.freeze_imports()"  # every script's first call does this
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]{8} \d{4})\]$")


def jobs(log: Path) -> list[tuple[str, int, float]]:
    """(rule, jobid, seconds) of every job that finished in the run."""
    now, rule, started, out = None, None, {}, []
    for line in log.read_text().splitlines():
        if m := STAMP.match(line):
            now = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line):
            rule = m[1]
        elif (m := re.match(r"^\s+jobid: (\d+)$", line)) and rule:
            started[int(m[1])] = (rule, now)
            rule = None
        elif m := re.match(r"^Finished jobid: (\d+)", line):
            name, t0 = started.pop(int(m[1]))
            out.append((name, int(m[1]), (now - t0).total_seconds()))
    return out


def scripts() -> dict[str, Path]:
    """Rule name (a regex for the rules a loop defines) -> its script."""
    out = {}
    for smk in sorted((ROOT / "workflow/rules").rglob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n(?=\s*(?:rule|checkpoint)\b)", text):
            name = re.match(r"\s*(?:rule|checkpoint)\s+(\w+)\s*:", block)
            if not name:
                name = re.search(r"name:\s*\n\s*f?\"([^\"]+)\"", block)
            script = re.search(r"script:\s*\n\s*\"([^\"]+)\"", block)
            if name and script:
                pattern = re.sub(r"\{[^}]*\}", r"\\w+", name[1])
                out[pattern] = (smk.parent / script[1]).resolve()
    for smk in sorted((ROOT / "workflow/rules").rglob("*.smk")):  # `use rule a as b`: a's script
        for parent, child in re.findall(r"^\s*use rule (\w+) as (\w+)", smk.read_text(), re.M):
            if parent in out:
                out.setdefault(child, out[parent])
    return dict(sorted(out.items(), key=lambda kv: "\\w" in kv[0]))  # exact names before patterns


def imports(script: Path) -> str:
    """The script's top-level statements before its `joblog.from_snakemake` call (the garbage
    collector turned off, then its imports), then the imports its project modules defer to
    a function (merge.py imports lm-eval and mergekit where it merges and evaluates), as one
    line of code. Counted whether or not the job calls that function, so the figure errs
    high; not counted: an import in a `try` (an optional backend, vLLM) and joblog's (torch,
    for the GPU check of a job that asks for one)."""
    tree = ast.parse(script.read_text())
    top = []
    for node in tree.body:
        if "from_snakemake" in ast.unparse(node):
            break
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            top.append(node)
    deferred = []
    for node in top:
        if isinstance(node, ast.ImportFrom) and node.module == "mergelimits":
            for alias in node.names:
                if alias.name != "joblog" and (ROOT / "src/mergelimits" / f"{alias.name}.py").exists():
                    deferred += _deferred(ROOT / "src/mergelimits" / f"{alias.name}.py")
    lines = [ast.unparse(node) for node in top] + deferred
    return "; ".join(dict.fromkeys(lines))


def _deferred(module: Path) -> list[str]:
    """The import statements inside the module's functions, outside any `try`, made
    absolute (`from . import evaluate`: `from mergelimits import evaluate`)."""
    out = []
    tree = ast.parse(module.read_text())
    in_try = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) for n in ast.walk(t)}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in in_try:
                    if isinstance(node, ast.ImportFrom) and node.level:
                        node = ast.ImportFrom(module="mergelimits" + (f".{node.module}" if node.module else ""),
                                              names=node.names, level=0)
                    out.append(ast.unparse(node))
    return out


def startup(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    log = args.log or max((ROOT / ".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    done = jobs(log)
    by_rule: dict[str, list[float]] = {}
    for rule, _, s in done:
        by_rule.setdefault(rule, []).append(s)
    known = scripts()
    total = sum(s for *_, s in done)
    paid = 0.0
    print(f"{log.name}: {len(done)} jobs, {total:.0f} job-seconds, longest {max(s for *_, s in done):.0f} s\n")
    print("| rule | jobs | job-seconds | longest | start-up a job | start-up share |")
    print("| --- | --: | --: | --: | --: | --: |")
    cache: dict[Path, float] = {}
    for rule, secs in sorted(by_rule.items(), key=lambda kv: -sum(kv[1])):
        script = next((p for pat, p in known.items() if re.fullmatch(pat, rule)), None)
        if script is None:
            up = ""
            share = ""
        else:
            if script not in cache:
                cache[script] = startup(f"{PREAMBLE}; {imports(script)}; {SETUP}", args.repeat)
            paid += cache[script] * len(secs)
            up = f"{cache[script]:.2f} s"
            share = f"{100 * cache[script] * len(secs) / sum(secs):.0f}%" if sum(secs) else "–"
        print(f"| `{rule}` | {len(secs)} | {sum(secs):.0f} | {max(secs):.0f} | {up} | {share} |")
    print(f"\nstart-up: {paid:.0f} of {total:.0f} job-seconds ({100 * paid / total:.0f}%)")


if __name__ == "__main__":
    main()
