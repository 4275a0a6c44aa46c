"""Print the sbatch line a Slurm profile gives each rule of a study, without submitting.

    python tools/sbatch_lines.py [--configfile config/paper.yaml] [--profile profiles/lumi] [--test-only]

Snakemake's dry run resolves every job's resources (rule, config, profile); this script
passes them to the Slurm executor plugin's own command builder (`get_submit_command` and
`set_gres_string`, the functions its `run_job` calls), so the lines are the plugin's, less
the per-run parts (job name, log file, working directory, the wrapped command). A group
job (profiles/lumi: a merge with its evaluation) gets what Snakemake gives a chain of jobs:
the largest width (memory, GPUs, cores) and the summed runtime.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
ADDITIVE = {"runtime"}
WIDTH = {"mem_mb", "gpu", "cpus_per_task", "cpus_per_gpu", "tasks", "nodes"}


class Resources(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _value(text: str):
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def localrules() -> set[str]:
    """Rules named in `localrules:` blocks (a dry run does not mark them)."""
    names = set()
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]:
        for block in re.findall(r"localrules:\s*\n((?:\s+\w+,?\s*\n)+)", path.read_text()):
            names |= set(re.findall(r"\w+", block))
    return names


def dry_run_jobs(configfile: str | list[str], profile: str, targets: list[str]) -> list[dict]:
    """Every job of the dry run: rule, group, threads and resources as Snakemake resolved them.
    `configfile`: one file, or several (later ones override earlier ones, as Snakemake's)."""
    configfiles = [configfile] if isinstance(configfile, str) else list(configfile)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(ROOT / "Snakefile"), "--configfile",
             *configfiles, "--profile", profile, "--sdm", "env-modules", "--directory", tmp, "--", *targets],
            capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    jobs, group, local = [], None, localrules()
    for block in re.split(r"\n(?=\s*\[[^\]]+\]\s*(?:rule |localrule |Group job ))", proc.stdout):
        head = re.search(r"Group job (\w+)", block)
        if head:
            group = (head[1], len(jobs))  # one instance of the group: the jobs indented below
            continue
        rule = re.search(r"^\s*(local)?rule (\w+):", block, re.M)
        if not rule:
            continue
        indented = block.lstrip("\n").startswith((" ", "\t"))
        res = re.search(r"resources: (.*)", block)
        resources = Resources()
        for item in res[1].split(", ") if res else []:
            key, _, val = item.partition("=")
            if val != "<TBD>" and key in {"mem_mb", "runtime", "gpu", "slurm_partition", "cpus_per_task",
                                          "cpus_per_gpu", "tasks", "tasks_per_gpu", "tasks_per_node", "nodes",
                                          "mpi", "slurm_extra", "constraint", "qos", "gres", "login_mem_mb"}:
                resources[key] = _value(val)
        threads = re.search(r"threads: (\d+)", block)
        # Target rules with no output never reach Slurm either.
        is_local = bool(rule[1]) or rule[2] in local or "output:" not in block
        jobs.append({"rule": rule[2], "local": is_local, "group": group if group and indented else None,
                     "threads": int(threads[1]) if threads else 1, "resources": resources})
    return jobs


def group_resources(members: list[dict]) -> Resources:
    """A chain of jobs in one Slurm job: widest width, summed runtime."""
    out = Resources()
    for job in members:
        for key, val in job["resources"].items():
            if key in ADDITIVE:
                out[key] = out.get(key, 0) + val
            elif key in WIDTH:
                out[key] = max(out.get(key, 0), val)
            else:
                out.setdefault(key, val)
    return out


def sbatch_line(name: str, resources: Resources, threads: int = 1) -> str:
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    job = SimpleNamespace(resources=resources, threads=threads, name=name, is_group=lambda: False)
    partition = f" -p {shlex.quote(str(resources['slurm_partition']))}" if "slurm_partition" in resources else ""
    params = {"run_uuid": "<run>", "slurm_logfile": "<log>", "comment_str": f"rule_{name}", "account": "",
              "partition": partition, "workdir": None}
    call = get_submit_command(job, params) + set_gres_string(job)
    call = re.sub(r" --job-name \S+ --output \S+ --export=ALL --comment \S+", "", call)
    return re.sub(r"\s+", " ", call.replace("--parsable ", "")).strip()


def lines(configfile: str | list[str], profile: str, targets: list[str]) -> dict[str, str]:
    """One sbatch line per rule (or group), in the order of the dry run."""
    jobs = dry_run_jobs(configfile, profile, targets)
    out: dict[str, str] = {}
    grouped: dict[tuple, list[dict]] = {}
    for job in jobs:
        if job["local"]:
            out.setdefault(job["rule"], "local rule: runs where Snakemake runs (the login node)")
        elif job["group"]:
            grouped.setdefault(job["group"], []).append(job)
        else:
            out.setdefault(job["rule"], sbatch_line(job["rule"], job["resources"], job["threads"]))
    for (name, _), members in grouped.items():
        rules = " + ".join(sorted({j["rule"] for j in members}))
        out.setdefault(f"group {name}: {rules}", sbatch_line(name, group_resources(members)))
    return out


def every_line(configfile: str | list[str], profile: str, targets: list[str]) -> dict[str, list[str]]:
    """Every distinct sbatch line of the run, with the rules that submit it: what LUMI's
    `sbatch --test-only` should accept before the first real submission."""
    out: dict[str, list[str]] = {}
    for job in dry_run_jobs(configfile, profile, targets):
        if not job["local"] and not job["group"]:
            line = sbatch_line(job["rule"], job["resources"], job["threads"])
            out.setdefault(line, [])
            if job["rule"] not in out[line]:
                out[line].append(job["rule"])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="+", default=[str(ROOT / "config/paper.yaml")])
    ap.add_argument("--profile", default=str(ROOT / "profiles/lumi"))
    ap.add_argument("targets", nargs="*", default=["all"])
    ap.add_argument("--test-only", action="store_true",
                    help="print every distinct line as a command for `sbatch --test-only` (run them on LUMI: "
                         "Slurm checks partition, time, memory and GPUs against the real limits, submits nothing)")
    args = ap.parse_args(argv)
    if args.test_only:
        for line, rules in every_line(args.configfile, args.profile, args.targets).items():
            cmd = line.replace("sbatch ", 'sbatch --test-only -A "$SBATCH_ACCOUNT" ', 1)
            print(f"{cmd} --wrap true   # {', '.join(rules)}")
        return
    for rule, line in lines(args.configfile, args.profile, args.targets).items():
        print(f"{rule}:\n    {line}")


if __name__ == "__main__":
    main()
