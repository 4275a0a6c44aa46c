"""What a cluster profile needs before any job is submitted.

Without it, a Slurm profile on a machine with no Slurm fails inside the executor plugin at
the first submission ("No such file or directory: 'sacct'"), once per job.
"""

import shutil
import subprocess


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
