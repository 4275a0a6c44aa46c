"""A Slurm profile where no Slurm answers: one clear line before any job, nothing written."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mergelimits import cluster

from .conftest import ROOT


SLURM_COMMANDS = {"sbatch", "squeue", "sinfo", "sacct", "scancel", "scontrol", "srun", "salloc"}


def path_without_slurm(bin_dir: Path) -> str:
    """This machine's PATH with Slurm's commands left out (a laptop's, or a compute node's)."""
    bin_dir.mkdir()
    for folder in [Path(sys.executable).parent, *map(Path, os.environ["PATH"].split(os.pathsep))]:
        for exe in folder.glob("*") if folder.is_dir() else []:
            if exe.name not in SLURM_COMMANDS and not (bin_dir / exe.name).exists():
                (bin_dir / exe.name).symlink_to(exe)
    return str(bin_dir)


def test_slurm_profile_without_slurm_stops_before_any_job(tmp_path):
    env = {**os.environ, "PATH": path_without_slurm(tmp_path / "bin"), "HF_HUB_OFFLINE": "1"}
    tmp_path = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(ROOT / "config/config.yaml"), "--profile", str(ROOT / "profiles/slurm-test"),
         "--", "data"], capture_output=True, text=True, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The Slurm profile submits jobs with sbatch, but sbatch, squeue, sinfo is not on PATH" in out, out[-2000:]
    assert "Traceback" not in out and "Errno" not in out
    assert not (tmp_path / "results").exists() and not (tmp_path / ".snakemake/slurm_logs").exists()


@pytest.mark.skipif(shutil.which("sinfo") is None, reason="Slurm's client commands are not installed")
def test_an_unreachable_controller_is_named(tmp_path, monkeypatch):
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=gone\nSlurmctldHost=gone(127.0.0.1)\nSlurmctldPort=9\nMessageTimeout=1\n"
                    "NodeName=gone CPUs=1\nPartitionName=p Nodes=ALL\n")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    problem = cluster.slurm_problem(timeout=60)
    assert problem.startswith("No Slurm controller reachable") and "Unable to contact slurm controller" in problem
