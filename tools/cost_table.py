"""The paper config's cost table: every GPU and heavy CPU rule's estimate (mergelimits.cost)
beside the limit the LUMI profile gives it, written into docs/cost.md between its markers.

    python tools/cost_table.py            # rewrite the table in docs/cost.md
    python tools/cost_table.py --check    # exit 1 if docs/cost.md is not what it would write
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
DOC = ROOT / "docs/cost.md"
BEGIN, END = "<!-- cost table: written by tools/cost_table.py; do not edit -->", "<!-- /cost table -->"


def table() -> str:
    import sbatch_lines

    from mergelimits import cost

    cfg = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
    estimates = cost.rule_estimates(cfg)
    jobs = sbatch_lines.dry_run_jobs(str(ROOT / "config/paper.yaml"), str(ROOT / "profiles/lumi"), ["all"])
    limits: dict[str, dict] = {}
    for job in jobs:
        if job["rule"] in estimates:
            res = job["resources"]
            limits.setdefault(job["rule"], {"where": "login node" if job["local"] else res.get("slurm_partition"),
                                            "runtime": "–" if job["local"] else res.get("runtime"),
                                            "mem": res.get("login_mem_mb" if job["local"] else "mem_mb")})
    rows = ["| rule | jobs | estimate (min) | limit (min) | est. host memory (GB) | limit (GB) | where | basis |",
            "|:--|--:|--:|--:|--:|--:|:--|:--|"]
    for rule, est in estimates.items():
        lim = limits[rule]
        mem = "node" if rule == "pretrain_megatron" else f"{est.mem_mb / 1000:.1f}"
        rows.append(f"| `{rule}` | {est.jobs} | {est.minutes:,.0f} | {lim['runtime']} | {mem} | "
                    f"{lim['mem'] / 1000:.0f} | {lim['where']} | {est.basis} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    new = f"{head}{BEGIN}\n{table()}\n{END}{tail}"
    if args.check:
        if new != text:
            print(f"{DOC} is stale: run python tools/cost_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
