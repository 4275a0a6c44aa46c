"""What a Slurm run needs before its first job, and what it says after its last.

Without the check, a Slurm profile on a machine with no Slurm fails inside the executor
plugin at the first submission ("No such file or directory: 'sacct'"), once per job. Without
the summary, a job Slurm killed for memory is reported as 'FAILED' and nothing more.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path


def slurm_problem(timeout: float = 30) -> str | None:
    """Why no job could be submitted to Slurm from here, in one line; None when a controller answers."""
    missing = [cmd for cmd in ("sbatch", "squeue", "sinfo") if shutil.which(cmd) is None]
    if missing:
        return (f"The Slurm profile submits jobs with sbatch, but {', '.join(missing)} is not on PATH: "
                "run Snakemake on the cluster's login node, or use --profile profiles/local.")
    try:
        proc = subprocess.run(["sinfo", "--noheader", "--format=%P"], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"No Slurm controller answered `sinfo` within {timeout:g} s; no job was submitted."
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        return f"No Slurm controller reachable (`sinfo`: {lines[-1].strip()}); no job was submitted."
    return None


def account_problem(variable: str | None) -> str | None:
    """An explicit account is required (the profile's `account_env`) and its variable is unset.
    Without one, the Slurm executor plugin guesses an account from sacct and bills it."""
    if variable and not os.environ.get(variable):
        return (f"{variable} is not set: export {variable}=project_<number> (the project to bill); "
                "no job was submitted.")
    return None


def container_problem(image: str, configured: str, apptainer_args: str = "") -> str | None:
    """The image every job runs in is not there, or its environment variable is unset; or
    a squashfs it mounts (`--bind X.sqsh:...`) is missing."""
    if "$" in image:
        variable = re.search(r"\$\{?(\w+)", image)[1]
        return (f"{variable} is not set, so the container {configured} names nothing: build the project's "
                "environment (envs/lumi/build-env.sh) and export it; no job was submitted.")
    missing = [path for path in [image, *re.findall(r"--bind\s+([^:\s]+\.sqsh):", apptainer_args)]
               if not os.path.exists(path)]
    if missing:
        return (f"{missing[0]} does not exist: build the project's environment (envs/lumi/build-env.sh); "
                "no job was submitted.")
    return None


def bindings_problem(required: str | None) -> str | None:
    """The container binds a profile needs (`required_binds`, comma-separated) are not all in
    the environment the containers inherit. LUMI's `lumi-aif-singularity-bindings` module sets
    them in SINGULARITY_BIND; without Slingshot's CXI library inside the image RCCL falls back
    to TCP sockets, and nothing says so."""
    if not required:
        return None
    bound = ",".join(os.environ.get(v, "") for v in ("SINGULARITY_BIND", "APPTAINER_BIND", "SINGULARITY_BINDPATH",
                                                       "APPTAINER_BINDPATH"))
    have = {entry.split(":")[0].rstrip("/") for entry in bound.split(",") if entry}
    missing = [path for path in required.split(",") if path.rstrip("/") not in have]
    if missing:
        return (f"the containers would not see {', '.join(missing)} (not in SINGULARITY_BIND): load LUMI's bindings, "
                "`module use /appl/local/laifs/modules && module load lumi-aif-singularity-bindings`, or RCCL falls "
                "back to TCP sockets; no job was submitted.")
    return None


def hf_home_warning() -> str | None:
    """The Hugging Face cache under $HOME, whose quota (20 GB, 100k files on LUMI) the
    paper's checkpoints would exhaust."""
    home = Path(os.path.expanduser("~")).resolve()
    cache = Path(os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface")).resolve()
    if cache == home or home in cache.parents:
        return (f"warning: the Hugging Face cache is {cache}, under $HOME: the paper's checkpoints fill a "
                "home quota; export HF_HOME=/scratch/<project>/... (or /flash)")
    return None


# What slurmstepd writes into a job's log when Slurm ends it, most specific first: a job
# killed for memory is also "CANCELLED AT".
_ENDINGS = [
    (re.compile(r"exceeded (job )?memory limit|oom[-_ ]kill", re.I), "exceeded its memory limit (mem_mb)"),
    (re.compile(r"CANCELLED AT \S+ DUE TO TIME LIMIT"), "ran past its time limit (runtime)"),
    (re.compile(r"CANCELLED AT \S+ DUE TO PREEMPTION"), "was preempted"),
    (re.compile(r"CANCELLED AT \S+ \*\*\*"), "was cancelled (scancel or an administrator)"),
]


def slurm_failures(snakemake_log: str) -> list[str]:
    """One line per Slurm job that failed in a Snakemake run: rule, job id, why Slurm ended
    it (read from the job's Slurm log; the plugin only knows the state without sacct) and
    the log's path."""
    lines = []
    for block in snakemake_log.split("Error in rule ")[1:]:
        rule = block.split(":", 1)[0]
        job = re.search(r"SLURM-job '(\d+)' failed, SLURM status is: '(\w+)'", block)
        if not job:
            continue
        log = re.search(r"^\s*log: .*?(\S*slurm_logs/\S+?\.log)", block, re.M)
        why = "failed"
        if log and Path(log[1]).exists():
            text = Path(log[1]).read_text(errors="replace")
            why = next((ending for pattern, ending in _ENDINGS if pattern.search(text)), why)
        lines.append(f"{rule}: Slurm job {job[1]} {why}, state {job[2]}; Slurm log: {log[1] if log else 'none'}")
    return lines
