"""The study through a real Slurm: the one-node cluster of tools/local-slurm.sh, the
Snakemake Slurm executor plugin and profiles/slurm-test (LUMI's executor settings and
resource mapping on one partition).

One module-scoped session does what a user meets, in this order:
  1. the study submitted to Slurm (from pre-training on: the data and the init are made by
     the local profile first); one pre-training job cancelled with scancel mid-run;
  2. the same command again, which finishes the study (the cancelled model resumes);
  3. reruns of what the Slurm run made: one bilingual pair end to end, one model's
     evaluation, figures (with profiles/local: which jobs a rerun names is Snakemake's DAG,
     the same whichever executor runs them, and Slurm's queue would only add minutes);
  4. beside 2 and 3, in a workdir of their own, two jobs over their time and memory limits.
The reference is run `a` of the `mini_started` fixture: the same config run locally, beside
the Slurm session (which makes its own data and init, locally, first).
The `slurm` fixture (conftest.py) starts Slurm when none answers (root; installs Debian's
packages) and skips otherwise, unless MERGELIMITS_REQUIRE_SLURM is set, as in CI.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from .conftest import MINI_STEPS, ROOT, jobs_run, mini_config

pytestmark = pytest.mark.slurm

STEPS = MINI_STEPS
PAIR = "linear-eng+fra"
#: the mini runs' environment (offline, the external baseline's hub cache), set by `session`
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def start(workdir: Path, configfile: Path, *args: str, name: str, nice: bool = False,
          env: dict | None = None) -> subprocess.Popen:
    """Snakemake in the background, its output in workdir/<name>.out; `nice`: it and the
    jobs it submits at the lowest CPU priority (PropagatePrioProcess in tools/local-slurm.sh)."""
    workdir.mkdir(exist_ok=True)
    out = open(workdir / f"{name}.out", "w")
    return subprocess.Popen([*(["nice", "-n", "19"] if nice else []), sys.executable, "-m", "snakemake",
                             "--snakefile", str(ROOT / "Snakefile"),
                             "--configfile", str(configfile), "--directory", str(workdir), *args],
                            stdout=out, stderr=subprocess.STDOUT, env=env or ENV)


def run(workdir: Path, configfile: Path, *args: str, name: str, env: dict | None = None) -> tuple[int, str]:
    proc = start(workdir, configfile, *args, name=name, env=env)
    proc.wait(900)
    return proc.returncode, (workdir / f"{name}.out").read_text()


def wait_for(condition, what: str, proc: subprocess.Popen, timeout: float = 600):
    t0 = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"Snakemake ended (exit {proc.returncode}) before {what}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.05)


def slurm_job(rule: str, wildcard: str) -> str | None:
    """The id of the running Slurm job of `rule` for `wildcard` (found by the plugin's --comment)."""
    out = subprocess.run(["squeue", "--noheader", "--format=%i %T %k"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        jobid, state, comment = line.split(maxsplit=2)
        if comment.startswith(f"rule_{rule}_wildcards_") and wildcard in comment and state == "RUNNING":
            return jobid
    return None


@pytest.fixture(scope="module")
def session(slurm, mini_started, tiny_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    config = mini_started.config
    profile = ["--profile", str(ROOT / "profiles/slurm-test")]
    s = SimpleNamespace(root=root, slurm=root / "slurm", local=mini_started.a, faults=root / "faults")
    ENV.update(mini_started.env)  # sbatch passes it on to every job (--export=ALL)
    # Every job of the study in a container, as on LUMI: a stand-in singularity records each
    # exec line (its log) and runs the command on the node, with this environment's python
    # first on PATH as the image's is in the image.
    s.image, s.exec_log = root / "image.sif", root / "singularity.log"
    s.image.touch()
    ENV.update(FAKE_LUMI_LOG=str(s.exec_log),
               PATH=os.pathsep.join([str(ROOT / "tests/fixtures/fake-lumi"), str(Path(sys.executable).parent),
                                     ENV.get("PATH", os.environ["PATH"])]))
    container = ["--sdm", "apptainer", "--config", f"container={s.image}"]

    # The study goes to Slurm from its pre-training on, which is what a cancel and a resume are
    # about (the faults run below still sends a data job to Slurm). Its data and init are made
    # here first, by the local profile in the image as the Slurm jobs run, while the local
    # reference run goes on beside; the comparison at the end covers these files too. Their
    # exec lines go to a log of their own: the study's are the Slurm runs'.
    rc, out = run(s.slurm, config, "--profile", str(ROOT / "profiles/local"), *container, "--", "data",
                  "results/tiny/models/init/model.safetensors", name="prepare",
                  env={**ENV, "FAKE_LUMI_LOG": str(root / "prepare-singularity.log")})
    assert rc == 0, out[-3000:]

    # 1. The study on Slurm; mono-fra's training cancelled once it has saved a state.
    proc = start(s.slurm, config, *profile, *container, name="first")
    state = s.slurm / "results/tiny/pretrain_state/mono-fra/train_state.pt"
    wait_for(state.exists, "saved training state of mono-fra", proc)
    jobid = slurm_job("pretrain_torch", "mono-fra")
    assert jobid, "mono-fra's training job is not running"
    subprocess.run(["scancel", jobid], check=True)
    s.cancelled = jobid
    s.first_rc, s.first = proc.wait(600), (s.slurm / "first.out").read_text()
    s.left_by_cancel = sorted((s.slurm / "results/tiny/models").glob("mono-fra/step~*/*"))
    s.state_kept = state.exists()

    # 2. The same command again finishes the study; beside it (and the reruns), 4. the jobs
    # over their time and memory limits, in a workdir of their own prepared locally: the
    # time limit alone takes over a minute, which beside the study's jobs costs little.
    second = start(s.slurm, config, *profile, *container, name="second")
    faults_cfg = root / "faults.yaml"
    faults_cfg.write_text(yaml.safe_dump(mini_config(tiny_config, steps=10**6)))
    rc, out = run(s.faults, faults_cfg, "--profile", str(ROOT / "profiles/local"), "--",
                  "results/tiny/models/init/model.safetensors", name="prepare")
    assert rc == 0, out[-3000:]
    faults = start(s.faults, faults_cfg, *profile, "--keep-going",
                   "--set-resources", "pretrain_torch:runtime=1", "generate_benchmarks:mem_mb=60", "--",
                   f"results/tiny/models/mono-eng/step~{10**6}/model.safetensors",
                   "results/tiny/data/benchmarks/generated.json", name="faults", nice=True)
    s.second_rc, s.second = second.wait(900), (s.slurm / "second.out").read_text()
    s.study_execs = s.exec_log.read_text().splitlines()  # the faults run and the reruns use none

    # 3. The reruns, one at a time, beside the faults run.
    s.reruns = {}
    pairs = s.slurm / "results/tiny/analysis/pairs.tsv"
    s.pairs_before = pairs.read_text() if pairs.exists() else None
    for name, args in {
        # -R names the pair's merge: it and everything downstream of it in `analysis`.
        "pair": ["-R", f"results/tiny/models/{PAIR}/step~{STEPS}/merge.json", "--", "analysis"],
        # -R names the scores: the job that makes them (here evaluate_model), nothing else.
        "evaluation": ["-R", f"results/tiny/eval/mixed3/step~{STEPS}/scores.tsv", "--",
                       f"results/tiny/eval/mixed3/step~{STEPS}/scores.tsv"],
        "figures": ["--forcerun", "make_figures", "--", "figures"],
    }.items():
        s.reruns[name] = run(s.slurm, config, "--profile", str(ROOT / "profiles/local"), *container, *args,
                             name=f"rerun-{name}")
    s.faults_rc, s.faults_out = faults.wait(900), (s.faults / "faults.out").read_text()
    mini_started.wait()  # the reference the tests compare with
    return s


def test_every_job_of_the_study_ran_its_command_in_the_image(session):
    """The second Slurm run, job by job: each one that has a command (every rule but the
    target rules) ran it inside the image (the stand-in's exec lines), on the node where the
    jobstep plugin's `srun -n1` started it."""
    s = session
    execs = [line for line in s.study_execs if " exec " in line]
    assert all(f"{s.image} bash -c" in line or f"{s.image} sh -c" in line for line in execs), execs[:3]
    targets = {"all", "data", "pretrain", "merge", "tables", "analysis", "figures"}

    def finished(out: str) -> list[str]:
        rules = [line.split("Rule: ")[1].rstrip(")") for line in out.splitlines() if line.startswith("Finished jobid")]
        return [rule for rule in rules if rule not in targets]

    def planned(out: str) -> int:
        return sum(n for rule, n in jobs_run(out).items() if rule not in targets)

    with_command, first = finished(s.second), len(finished(s.first))
    # How many finish in the first run before the cancel stops it depends on the machine's
    # speed; what does not: the second run finishes every job it planned, and together the two
    # runs finish each job of the study once (the cancelled one in the second only).
    assert len(with_command) == planned(s.second)
    assert first + len(with_command) == planned(s.first)
    assert len(with_command) >= 1
    # the first run's finished jobs, its cancelled training and the second run's jobs; jobs
    # the cancel stopped before they started add none
    assert len(with_command) + 1 <= len(execs) <= len(with_command) + first + 4


def test_a_cancelled_job_is_reported_and_leaves_no_output(session):
    s = session
    assert s.first_rc != 0
    assert f"SLURM-job '{s.cancelled}' failed, SLURM status is: 'CANCELLED'" in s.first
    log = f".snakemake/slurm_logs/rule_pretrain_torch/mono-fra/{s.cancelled}.log"
    assert log in s.first and "CANCELLED" in (s.slurm / log).read_text()
    assert f"pretrain_torch: Slurm job {s.cancelled} was cancelled (scancel or an administrator), state CANCELLED" \
        in s.first
    # Nothing of the cancelled job looks complete; its resumable state is kept.
    assert s.left_by_cancel == [] and s.state_kept


def test_the_rerun_resumes_and_equals_a_local_run(session):
    s = session
    assert s.second_rc == 0, s.second[-3000:]
    assert "has been submitted with SLURM jobid" in s.second
    assert re.search(r"resumed from .*mono-fra/train_state.pt at step \d+",
                     (s.slurm / "logs/tiny/pretrain/mono-fra.log").read_text())
    a, b = (load_file(str(d / f"results/tiny/models/mono-fra/step~{STEPS}/model.safetensors"))
            for d in (s.local, s.slurm))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    keys = ["model", "step", "benchmark", "lang", "item"]
    a, b = (pd.read_parquet(d / "results/tiny/eval/scores.parquet").sort_values(keys).reset_index(drop=True)
            for d in (s.local, s.slurm))
    pd.testing.assert_frame_equal(a, b)



def test_the_slurm_run_writes_every_file_of_the_local_run(session):
    """The determinism test: two independent runs of one config. The Slurm session makes its
    data, tokenizer and init itself (locally, in its own workdir) and every later job on
    Slurm, on other cores, with a cancel, a resume and three reruns; every random choice is
    seeded and every job its own process, so it writes the same bytes as the local run, file
    for file: weights, per-item scores, tables, figures, merge records (Merged3 by TIES, which
    trims and elects signs, and by DARE-TIES, which draws seeded random drops)."""
    # independent: the Slurm session's own jobs made its data and init, nothing was copied
    assert {"generate_benchmarks", "init_model"} <= set(jobs_run((session.slurm / "prepare.out").read_text()))
    a, b = (d / "results" / "tiny" for d in (session.local, session.slurm))
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for must in ("eval/scores.parquet", "eval/aggregate.tsv", "tables/table1.csv", "tables/table8.csv",
                 "analysis/pairs.tsv", "figures/figure1.png", "figures/figure3.pdf", "summary.md",
                 f"models/dare_ties-all3/step~{STEPS}/merge.json", f"eval/dare_ties-all3/step~{STEPS}/scores.tsv",
                 f"models/ties-all3/step~{STEPS}/merge.json", f"eval/ties-all3/step~{STEPS}/scores.tsv",
                 "data/benchmarks/generated.json", "models/init/model.safetensors",
                 f"models/mono-fra/step~{STEPS}/model.safetensors"):
        assert Path(must) in files, must
    differ = [str(f) for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    # A resumed run's training state pickles the same values through other objects (pickle's
    # memo, torch's per-process serialization id): compared by value.
    resumed = [f for f in differ if f.startswith("pretrain_state/")]
    for f in resumed:
        assert same_values(torch.load(a / f, weights_only=False), torch.load(b / f, weights_only=False)), f
    # The provenance records how each run ran: the Slurm run's jobs in a container, the local
    # run's not. Every other line is the same.
    recorded = [f for f in differ if f.startswith("provenance/")]
    for f in recorded:
        ran_in = [[line for line in (d / f).read_text().splitlines() if not line.startswith("container: ")]
                  for d in (a, b)]
        assert ran_in[0] == ran_in[1], f
    assert [f for f in differ if f not in resumed + recorded] == [], \
        f"{len(differ)} of {len(files)} files differ: {differ[:10]}"


def same_values(x, y) -> bool:
    if isinstance(x, dict):
        return list(x) == list(y) and all(same_values(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(map(same_values, x, y))
    if isinstance(x, torch.Tensor):
        return x.dtype == y.dtype and torch.equal(x, y)
    return x == y


def test_jobs_over_their_time_or_memory_are_reported_with_their_slurm_log(session):
    s = session
    assert s.faults_rc != 0
    logs = {next(part for part in p.parts if part.startswith("rule_")): p
            for p in (s.faults / ".snakemake/slurm_logs").rglob("*.log")}
    assert "DUE TO TIME LIMIT" in logs["rule_pretrain_torch"].read_text()
    assert "Exceeded job memory limit" in logs["rule_generate_benchmarks"].read_text()
    # The plugin's report (the state and the log), then the run's summary of why.
    reports = dict(block.split(":", 1) for block in s.faults_out.split("Error in rule ")[1:])
    for rule, state, why in (("pretrain_torch", "TIMEOUT", "ran past its time limit (runtime)"),
                             ("generate_benchmarks", "FAILED", "exceeded its memory limit (mem_mb)")):
        jobid = logs[f"rule_{rule}"].stem
        assert f"SLURM-job '{jobid}' failed, SLURM status is: '{state}'" in reports[rule]
        assert str(logs[f"rule_{rule}"]) in reports[rule]
        assert f"{rule}: Slurm job {jobid} {why}, state {state}; Slurm log: {logs[f'rule_{rule}']}" in s.faults_out
    # Neither left an output that looks complete.
    assert not (s.faults / "results/tiny/data/benchmarks/generated.json").exists()
    assert not (s.faults / f"results/tiny/models/mono-eng/step~{10**6}").exists()


def test_reruns_run_only_what_they_name(session):
    s = session
    for name, (rc, out) in s.reruns.items():
        assert rc == 0, f"{name}: {out[-3000:]}"
    # The pair: its merge (weights are temporary), its evaluation, and the analysis
    # downstream of its new scores; nothing trained or merged besides.
    assert jobs_run(s.reruns["pair"][1]) == {"merge_evaluate_pair_2": 1, "score_store": 1,
                                             "aggregate_scores": 1, "table8": 1, "analysis": 1}
    assert jobs_run(s.reruns["evaluation"][1]) == {"evaluate_model": 1}
    assert jobs_run(s.reruns["figures"][1]) == {"make_figures": 1, "figures": 1}
    # Deterministic: the pair's rebuilt row of the Table 8 data is the row it replaced.
    assert (s.slurm / "results/tiny/analysis/pairs.tsv").read_text() == s.pairs_before
