"""Jobs that cannot run where they land stop at once, in one line: a Slurm profile with no
Slurm answering, a GPU rule on a machine without a GPU. Nothing is written. And what every
job's script does first (`joblog.from_snakemake`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mergelimits import slurm

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


def test_an_unreachable_controller_is_named(slurm_client, tmp_path, monkeypatch):
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=gone\nSlurmctldHost=gone(127.0.0.1)\nSlurmctldPort=9\nMessageTimeout=1\n"
                    "NodeName=gone CPUs=1\nPartitionName=p Nodes=ALL\n")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    problem = slurm.slurm_problem(timeout=60)
    assert problem.startswith("No Slurm controller reachable") and "Unable to contact slurm controller" in problem


def test_why_slurm_ended_a_job_is_read_from_its_log(tmp_path):
    """Without sacct the plugin knows only the state; the job's Slurm log says why (lines
    as slurmstepd 22.05 wrote them in tests/test_slurm.py's runs)."""
    endings = {
        "101": "slurmstepd-vm: error: StepId=101.batch exceeded memory limit (125378560 > 62914560), being killed\n"
               "slurmstepd-vm: error: Exceeded job memory limit\n"
               "slurmstepd-vm: error: *** JOB 101 ON vm CANCELLED AT 2026-11-23T17:25:45 ***\n",
        "102": "slurmstepd-vm: error: *** JOB 102 ON vm CANCELLED AT 2026-11-23T17:27:02 DUE TO TIME LIMIT ***\n",
        "103": "slurmstepd-vm: error: *** JOB 103 ON vm CANCELLED AT 2026-11-23T17:24:36 ***\n",
        "104": "Traceback (most recent call last):\nValueError: bad input\n",
    }
    blocks = []
    for (jobid, text), state in zip(endings.items(), ["FAILED", "TIMEOUT", "CANCELLED", "FAILED"]):
        log = tmp_path / ".snakemake/slurm_logs/rule_x" / f"{jobid}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("Building DAG of jobs...\n" + text)
        blocks.append(f"Error in rule rule{jobid}:\n    message: SLURM-job '{jobid}' failed, SLURM status is: "
                      f"'{state}'. Detailed failure reason unavailable.\n    jobid: 3\n"
                      f"    log: logs/x.log, {log} (check log file(s) for error details)\n")
    lines = slurm.slurm_failures("Select jobs to execute...\n" + "".join(blocks) + "Error in rule local:\n  x\n")
    assert [line.split(";")[0] for line in lines] == [
        "rule101: Slurm job 101 exceeded its memory limit (mem_mb), state FAILED",
        "rule102: Slurm job 102 ran past its time limit (runtime), state TIMEOUT",
        "rule103: Slurm job 103 was cancelled (scancel or an administrator), state CANCELLED",
        "rule104: Slurm job 104 failed, state FAILED",
    ]
    assert all(line.endswith(f"{jobid}.log") for line, jobid in zip(lines, endings))


def test_a_gpu_job_without_a_gpu_stops_at_once_naming_its_rule(tmp_path):
    """A rule that asks for a GPU (gpu=1, as on LUMI) and lands on a machine without one
    fails in its first second, in one line, instead of running on the CPU; nothing is left."""
    from mergelimits import joblog

    with pytest.raises(joblog.NoDeviceError, match=r"^evaluate_model: the rule asks for gpu=1 but this job sees 0 GPU"):
        joblog.check_gpu("evaluate_model", 1, available=0)
    joblog.check_gpu("evaluate_model", 1, available=1)
    joblog.check_gpu("cka", 0, available=0)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--configfile",
           str(ROOT / "config/config.yaml"), "--directory", str(tmp_path), "--profile", str(ROOT / "profiles/local"),
           "--set-resources", "lang2vec_distance:gpu=1", "--", "results/tiny/analysis/lang2vec.tsv"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    log = (tmp_path / "logs/tiny/analysis/lang2vec_distance.log").read_text()
    assert "lang2vec_distance: the rule asks for gpu=1 but this job sees 0 GPU(s)" in log
    assert "Traceback" not in log
    assert not (tmp_path / "results/tiny/analysis/lang2vec.tsv").exists()


JOB = """
import gc

gc.disable()  # as every script does before its imports
import sys, types, weakref
import torch  # a job's imports: what is alive when its script starts
from mergelimits import joblog

alive = len(gc.get_objects())
log = joblog.from_snakemake(types.SimpleNamespace(log=[sys.argv[1]], rule="cka", threads=1, resources={}))


class Model:  # what the job makes afterwards, left in a reference cycle
    pass


model = Model()
model.self, gone = model, weakref.ref(model)
del model
work = [[] for _ in range(10_000)]  # enough new containers for the collector to run by itself
del work
print(gc.get_freeze_count() >= alive, len(gc.get_objects()) < alive // 100, gone() is None)
log.info("done")
"""


def test_a_job_freezes_its_imports_and_collects_what_it_makes(tmp_path):
    """The imports, made with the collector off, are taken out of its reach (`gc.freeze`: not
    walked again, during the job or at exit), and the collector is on again: a cycle the job
    makes afterwards is collected without being asked for."""
    script, log = tmp_path / "job.py", tmp_path / "job.log"
    script.write_text(JOB)
    proc = subprocess.run([sys.executable, str(script), str(log)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True"]
    assert log.read_text().rstrip().endswith("mergelimits.cka: done")


THREADS = """
import sys, types
import torch
from mergelimits import joblog

threads, cpus = int(sys.argv[2]), sys.argv[3] or None
joblog.from_snakemake(types.SimpleNamespace(log=[sys.argv[1]], rule="evaluate_model", threads=threads,
                                            resources={"cpus_per_task": cpus} if cpus else {}))
print(torch.get_num_threads())
"""


@pytest.mark.parametrize(("threads", "cpus_per_task", "expected"), [(1, "", 1), (1, "3", 3), (2, "1", 2)])
def test_a_job_runs_torch_on_the_cores_it_was_given(tmp_path, threads, cpus_per_task, expected):
    """torch's default pool is one thread per core the process may run on, and a local run
    binds nothing; a job keeps to its rule's threads (or its Slurm cpus_per_task), so two jobs
    on two cores run two threads, not four."""
    script = tmp_path / "job.py"
    script.write_text(THREADS)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "job.log"), str(threads), cpus_per_task],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == expected


def test_every_job_script_turns_the_collector_off_only_until_from_snakemake():
    """A script turns the garbage collector off before its first import and calls
    `joblog.from_snakemake` (which turns it on again) before anything else: a script that did
    not would run its whole job, training loops included, without collecting a cycle."""
    import ast

    for script in sorted((ROOT / "scripts").glob("*.py")):
        body = ast.parse(script.read_text()).body[1:]  # after the docstring
        code = [ast.unparse(node) for node in body]
        assert code[:2] == ["import gc", "gc.disable()"], script.name
        first = next(i for i, node in enumerate(body[2:], 2) if not isinstance(node, (ast.Import, ast.ImportFrom)))
        assert code[first] == "log = joblog.from_snakemake(snakemake)", script.name
