"""The workflow itself: dry runs of both configs, and the tiny data stage run for real."""

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from mergelimits import benchfiles, benchmarks, languages, modelid, tokenizer

from .conftest import ROOT


def snakemake(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args],
                          capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.parametrize("configfile,merged,merge_jobs,trained_evals,expert_evals,expert_jobs,checkpoint_jobs", [
    ("config/config.yaml", 4 + 2 + 1 + 45 + 9 + 2, {"all": 2, "pair": 2, "succ": 1, "all_br120": 1}, 10 + 4 + 10, 20,
     {"evaluate_expert_1": 1, "evaluate_expert_br120_1": 1}, {"evaluate_mixed_1": 1}),
    ("config/paper.yaml", 8 + 2 + 45 + 9, None, 10 + 8 + 3, 10, {"evaluate_expert": 10}, {"evaluate_model": 8 + 3})])
def test_dry_run_has_one_job_per_model_of_the_design(configfile, merged, merge_jobs, trained_evals, expert_evals,
                                                      expert_jobs, checkpoint_jobs, tmp_path):
    """The whole DAG of each config: every merged model made once (Merged10 linear at every
    checkpoint, TIES and DARE-TIES at the final one, in the tiny study also the weight-matched
    linear at the final one, 45 pairs, successive 2..10; in the tiny study's branch family
    Merged10 linear and weight-matched): a job each in the paper config, up to 23 to a job of one
    kind's worth in the tiny study (merge.per_job), a Merged10 of the tables counting seven; one
    evaluation per expert (branched ones too; a family's ten a job in the tiny study,
    evaluate.per_job) and Mixed10 step (in the tiny study all four in one job, evaluate.per_job;
    in the paper config also one per external baseline, each fetched once).

    Building the DAG imports none of what the jobs compute with (`-X importtime`): torch and
    the libraries over it cost seconds at every parse, and a Slurm job parses the Snakefile
    again. pandas is not in the list: Snakemake imports it itself (snakemake.workflow)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = snakemake("-n", "--configfile", str(ROOT / configfile), "--directory", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", proc.stderr, re.M))
    assert "mergelimits.study" in imported and "snakemake.workflow" in imported
    heavy = {"torch", "transformers", "lm_eval", "mergekit", "scipy", "matplotlib", "sklearn", "safetensors",
             "mergelimits.evaluate", "mergelimits.tables", "mergelimits.catalog"}
    assert not heavy & imported
    outputs = "\n".join(re.findall(r"^\s*output: (.*)$", proc.stdout, re.M))
    records = re.findall(r"results/\w+/models/([^/\s,]+)/step~(\d+)/merge\.json", outputs)
    assert len(records) == len(set(records)) == merged
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, re.M))
    made = {rule: int(n) for rule, n in jobs.items() if rule.startswith("merge_evaluate")}
    if merge_jobs is None:
        assert made == {"merge_evaluate": merged}
    else:
        kinds = {}
        for rule, n in made.items():
            kind = re.fullmatch(r"merge_evaluate_(\w+)_\d+", rule)[1]
            kinds[kind] = kinds.get(kind, 0) + n
        assert kinds == merge_jobs
    # an expert at the final step: evaluate_expert (its activations too); in the tiny study
    # a family's ten experts a job (evaluate.per_job)
    evaluated = re.findall(r"results/\w+/eval/([^/\s,]+)/step~(\d+)/scores\.tsv", outputs)
    assert len(evaluated) == len(set(evaluated)) == merged + trained_evals
    activations = re.findall(r"analysis/activations/[^/\s,]+/step~\d+/eng\.npy", outputs)
    assert len(activations) == len(set(activations)) == expert_evals
    # the other pre-trained checkpoints (Mixed's; the paper config's baselines): a job each, or
    # in the tiny study Mixed's four in one job (evaluate.per_job)
    checkpoints = {rule: int(n) for rule, n in jobs.items() if re.fullmatch(r"evaluate_(model|mixed_\d+)", rule)}
    assert checkpoints == checkpoint_jobs and sum(checkpoints.values()) <= trained_evals - expert_evals
    experts = {rule: int(n) for rule, n in jobs.items() if rule.startswith("evaluate_expert")}
    assert experts == expert_jobs, proc.stdout
    if "paper" in configfile:  # every benchmark file a language has is fetched
        langs = list(languages.table())
        expected = sum(len(languages.available(b, langs)) * len(benchfiles.bench_files(b))
                       for b in benchmarks.BENCHMARKS)
        assert int(jobs["fetch_benchmark"]) == expected
        assert expected == 9 + 10 + 10 + 9 + 20
        assert jobs["fetch_baseline"] == "3"


def test_the_paper_from_published_weights_trains_nothing(tmp_path):
    """config/paper-published.yaml over the paper config: HPLT's experts, the authors' step 0
    and Mixed10 fetched, no pre-training, no pre-training corpus; Merged10 (linear) compared
    with the authors' merge at each of the eight checkpoints."""
    proc = snakemake("-n", "--quiet", "rules", "--configfile", str(ROOT / "config/paper.yaml"),
                     str(ROOT / "config/paper-published.yaml"), "--directory", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, re.M))
    assert jobs["fetch_mixed_checkpoint"] == "8" and jobs["fetch_hplt_checkpoint"] == "80"
    assert not {"pretrain_megatron", "megatron_index", "export_megatron", "fetch_corpus"} & set(jobs)
    assert jobs["merge_evaluate"] == "64"
    assert jobs["fetch_published_merge"] == jobs["compare_published_merge"] == "8"
    assert jobs["fetch_init"] == "1" and "init_model" not in jobs  # the authors' step 0, not rebuilt


@pytest.mark.slow
def test_mini_study_data_stage(mini_runs):
    cfg = yaml.safe_load(mini_runs.config.read_text())
    work = mini_runs.a
    root = work / "results" / "tiny" / "data"
    for bench in cfg["benchmarks"]:
        for lang in languages.available(bench, cfg["languages"]):
            for name in benchfiles.bench_files(bench):
                assert len(benchfiles.load(bench, root / "benchmarks" / bench / f"lang~{lang}" / name)) > 0
    mixed = [json.loads(line) for line in (root / "corpus" / "mixed3" / "train.jsonl").read_text().splitlines()]
    assert {r["lang"] for r in mixed} == set(cfg["languages"]) and len(mixed) == 60
    record = json.loads((root / "benchmarks" / "generated.json").read_text())
    assert record["seed"] == cfg["seeds"]["data"]
    tok = tokenizer.load(root / "tokenizer")
    assert tok.bos_token_id is not None and len(tok) == 400
    for log in ("generate_corpora", "generate_benchmarks", "train_tokenizer"):
        assert (work / "logs" / "tiny" / "data" / f"{log}.log").stat().st_size > 0


def test_mini_study_pretrain_stage(mini_runs):
    cfg = yaml.safe_load(mini_runs.config.read_text())
    work, steps = mini_runs.a, mini_runs.steps
    models = work / "results" / "tiny" / "models"
    assert json.loads((models / "init" / "init.json").read_text())["seed"] == cfg["seeds"]["init"]
    for name in ["mixed3"] + [modelid.mono(lang) for lang in cfg["languages"]]:
        for step in (steps // 2, steps):
            meta = json.loads((models / name / f"step~{step}" / "train.json").read_text())
            assert meta["step"] == step and meta["config"]["seed"] == cfg["seeds"]["train"]
    assert "tokens/s" in (work / "logs" / "tiny" / "pretrain" / "mixed3.log").read_text()


def test_mini_study_merge_stage(mini_runs):
    cfg = yaml.safe_load(mini_runs.config.read_text())
    work, steps = mini_runs.a, mini_runs.steps
    models = work / "results" / "tiny" / "models"
    # Merges: records beside weights deleted once evaluated (merge.keep_weights: false).
    dare = json.loads((models / "dare_ties-all3" / f"step~{steps}" / "merge.json").read_text())
    assert dare["seed"] == cfg["seeds"]["merge"] and dare["density"] == 0.75 and len(dare["members"]) == 3
    merged = [m for m in models.iterdir() if modelid.parse(m.name).kind == "merge"]
    n_all = len(cfg["merge"]["all"]["methods"])  # Merged3 by method, three pairs, succ2 and succ3,
    n_branch = len(cfg["merge"]["branch"]["methods"]) + 3  # and the branch family's Merged3 and pairs
    assert len(merged) == n_all + 3 + 2 + n_branch and not [m for m in merged if list(m.glob("step~*/model.safetensors"))]
    assert (models / "dare_ties-all3" / f"step~{steps}" / "config.json").exists()
    order = json.loads((work / "results/tiny/merges/successive_order.json").read_text())["order"]
    succ = json.loads((models / "linear-succ2" / f"step~{steps}" / "merge.json").read_text())
    assert [m.split("/")[-2] for m in succ["members"]] == [modelid.mono(lang) for lang in order[:2]]
    sim = (work / "results/tiny/merges/parametric_similarity.tsv").read_text().splitlines()
    assert len(sim) == 1 + 3


def test_mini_study_evaluation_and_tables_stage(mini_runs):
    """Tables come from the store: Table 1's Mixed row is the mean of its per-language scores."""
    work, steps = mini_runs.a, mini_runs.steps
    store = pd.read_parquet(work / "results/tiny/eval/scores.parquet")
    t1 = pd.read_csv(work / "results/tiny/tables/table1.csv").set_index("model")
    mb = store[(store.model == "mixed3") & (store.step == steps) & (store.benchmark == "multiblimp")]
    assert t1.loc["Mixed3", "multiblimp μ"] == pytest.approx(100 * mb.groupby("lang").acc.mean().mean())
    assert set(store[store.model == "linear-deu+eng"].lang) == {"deu", "eng"}
    for table in ("table2_multiblimp.md", "table6_flores.tex", "table7_flores_examples.csv", "table8.md",
                  "table1.html"):
        assert (work / "results/tiny/tables" / table).stat().st_size > 0
    summary = (work / "results/tiny/summary.md").read_text()
    assert f"| Mixed3 | {t1.loc['Mixed3', 'multiblimp μ']:.1f} |" in summary  # the README's block, from Table 1


def test_mini_study_analysis_and_figures_stage(mini_runs):
    """Outside Slurm too: Δ of each pair is merged − expert from the aggregated scores, Table 8
    correlates it, the figures and the provenance are written."""
    work, steps = mini_runs.a, mini_runs.steps
    agg = pd.read_csv(work / "results/tiny/eval/aggregate.tsv", sep="\t")
    mb = agg[(agg.benchmark == "multiblimp") & (agg.step == steps)].set_index(["model", "lang"])["score"]
    pairs = pd.read_csv(work / "results/tiny/analysis/pairs.tsv", sep="\t")
    assert len(pairs) == 3
    for r in pairs.itertuples():
        langs = r.languages.split("+")
        expected = sum(mb[(f"linear-{r.pair}", lang)] - mb[(modelid.mono(lang), lang)] for lang in langs) / len(langs)
        assert r.delta == pytest.approx(expected, abs=1e-4)
    t8 = pd.read_csv(work / "results/tiny/tables/table8.csv")
    assert "mean CKA (English)" in set(t8.measure)
    for name in ("figure1", "figure2", "figure3", "cka_heatmap"):
        for ext in ("png", "pdf"):
            assert (work / "results/tiny/figures" / f"{name}.{ext}").stat().st_size > 10_000
    assert "torch" in (work / "results/tiny/provenance/versions.tsv").read_text()


def test_mini_study_branch_stage(mini_runs):
    """Beyond the paper: experts branched from Mixed half-way continue its run (its kept
    state) on their own language; the family merges against that Mixed checkpoint; Figure 4's
    numbers are the means of the stored per-item scores; the family has its own Table 8."""
    import numpy as np

    from mergelimits import bootstrap

    cfg = yaml.safe_load(mini_runs.config.read_text())
    work, steps = mini_runs.a, mini_runs.steps
    res, branch = work / "results/tiny", steps // 2
    models = res / "models"
    kept = models / "mixed3" / f"step~{branch}" / "train_state.pt"
    assert kept.exists()
    meta = json.loads((models / f"mono-deu-br{branch}" / f"step~{steps}" / "train.json").read_text())
    assert meta["branched_from"].endswith(f"mixed3/step~{branch}/train_state.pt") and meta["step"] == steps
    assert not (models / f"mono-deu-br{branch}" / f"step~{branch}").exists()  # only after the branch
    rec = json.loads((models / f"dare_ties-all3-br{branch}" / f"step~{steps}" / "merge.json").read_text())
    assert [m.split("/")[-2] for m in rec["members"]] == [modelid.mono(lang, branch) for lang in cfg["languages"]]
    assert rec["base"].endswith(f"models/mixed3/step~{branch}")  # task vectors against the Mixed they left
    scores = pd.read_csv(res / "analysis/branch_scores.tsv", sep="\t")
    agg = bootstrap.read_aggregate(res / "eval/aggregate.tsv")
    mb = agg[(agg.benchmark == "multiblimp") & (agg.step == steps)].set_index(["model", "lang"])["score"]
    langs = ["deu", "eng", "fra"]
    for family in (0, branch):
        row = scores[(scores.family == family) & (scores.series == "experts") & (scores.benchmark == "multiblimp")]
        assert row.score.iloc[0] == pytest.approx(np.mean([mb[(modelid.mono(lang, family), lang)] for lang in langs]),
                                                  abs=1e-3)
        merged = scores[(scores.family == family) & (scores.series == "linear") & (scores.benchmark == "multiblimp")]
        assert merged.score.iloc[0] == pytest.approx(
            np.mean([mb[(modelid.merged_all("linear", 3, family), lang)] for lang in langs]), abs=1e-3)
    pairs = pd.read_csv(res / f"analysis/branch~{branch}/pairs.tsv", sep="\t")
    assert len(pairs) == 3
    for r in pairs.itertuples():  # Δ of the family's own merges and experts
        ls = r.languages.split("+")
        expected = np.mean([mb[(modelid.merged_pair("linear", *r.pair.split("+"), branch), lang)]
                            - mb[(modelid.mono(lang, branch), lang)] for lang in ls])
        assert r.delta == pytest.approx(expected, abs=1e-4)
    assert f"branched at {branch}" in (res / f"tables/table8_br{branch}.md").read_text().splitlines()[0]
    assert (res / "figures/figure4.png").stat().st_size > 10_000


def test_mini_study_is_incremental(mini_runs):
    work, steps = mini_runs.a, mini_runs.steps
    # Nothing left to do: the stages are incremental.
    again = snakemake("-n", "--configfile", str(mini_runs.config), "--directory", str(work))
    assert "Nothing to be done" in again.stdout + again.stderr
    # One pair rebuilt: the one job that merges it (with deu+eng, merge.per_job 2), nothing upstream.
    record = f"results/tiny/models/linear-deu+fra/step~{steps}/merge.json"
    one = snakemake("-n", "--quiet", "rules", "--configfile", str(mini_runs.config), "--directory", str(work),
                    "--forcerun", record, "--", record)
    assert re.search(r"^merge_evaluate_pair_1\s+1$", one.stdout, re.M), one.stdout
    assert "pretrain_torch" not in one.stdout and "merge_evaluate_pair_2" not in one.stdout, one.stdout


def test_a_model_merged_after_another_in_its_job_is_the_one_a_fresh_process_makes(mini_runs, tmp_path):
    """merge.per_job: the mini study's first pair job made linear-deu+eng, then linear-deu+fra
    in the same process; made alone in a new process, deu+fra's scores and lm-eval samples
    are byte-identical (nothing a model leaves in the process reaches the next)."""
    work, steps = mini_runs.a, mini_runs.steps
    cfg = yaml.safe_load(mini_runs.config.read_text())
    model, res = "linear-deu+fra", work / "results/tiny"
    done = res / f"eval/{model}/step~{steps}"
    tasks = sorted({f"ml_{b}_{lang}" for b, lang in
                    pd.read_csv(done / "scores.tsv", sep="\t")[["benchmark", "lang"]].itertuples(index=False)})
    args = dict(method="linear", members=[str(res / f"models/mono-{lang}/step~{steps}") for lang in ("deu", "fra")],
                base=str(res / "models/init"), out_dir=str(tmp_path / "merged"), model=model, step=steps, tasks=tasks,
                tasks_dir="results/tiny/eval/tasks", scores=str(tmp_path / "scores.tsv"),
                samples=str(tmp_path / "samples.jsonl"), density=cfg["merge"]["density"], seed=cfg["seeds"]["merge"],
                dtype=cfg["merge"]["dtype"], batch_size=cfg["evaluate"]["batch_size"],
                eval_seed=cfg["seeds"]["evaluate"], keep_weights=False)
    code = ("import json, sys; from pathlib import Path; from mergelimits import merge; a = json.loads(sys.argv[1]); "
            "merge.merge_and_evaluate(a.pop('method'), [Path(m) for m in a.pop('members')], Path(a.pop('base')), "
            "Path(a.pop('out_dir')), a.pop('model'), a.pop('step'), a.pop('tasks'), Path(a.pop('tasks_dir')), **a)")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=work, capture_output=True, text=True,
                          env=mini_runs.env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "linear-deu+eng" in (work / "logs/tiny/merge_evaluate/job~pair_1.log").read_text()  # made first
    for name in ("scores.tsv", "samples.jsonl"):
        assert (tmp_path / name).read_bytes() == (done / name).read_bytes(), name


def lumi_env(tmp_path) -> dict:
    """What a LUMI login shell has once the README is followed: the account, the built
    environment, and singularity (here a stand-in that records its command lines)."""
    envdir = tmp_path / "mergelimits-env"
    envdir.mkdir()
    (envdir / "image.sif").touch()
    (envdir / "venv.sqsh").touch()
    # what `module load lumi-aif-singularity-bindings` sets (docs/lumi.md)
    binds = "/var/spool/slurmd,/opt/cray,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,/pfs"
    return {**os.environ, "SBATCH_ACCOUNT": "project_465000000", "MERGELIMITS_ENV": str(envdir),
            "SINGULARITY_BIND": binds,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "FAKE_LUMI_LOG": str(tmp_path / "singularity.log"),
            "PATH": f"{ROOT / 'tests/fixtures/fake-lumi'}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.slow
def test_paper_dry_run_with_the_lumi_profile(tmp_path):
    """The LUMI profile as submitted there: every job in the project's image with its venv,
    the account given explicitly, and the pre-training launched by srun, with its geometry
    spelled out, outside the image, the image around each rank's python. The profile is
    named as users type it, once `make profiles` has linked it."""
    env = lumi_env(tmp_path)
    linked = subprocess.run(["make", "-s", "profiles"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert linked.returncode == 0, linked.stderr
    assert (tmp_path / "config/snakemake/lumi").resolve() == ROOT / "profiles/lumi"
    proc = snakemake("-n", "-p", "--configfile", str(ROOT / "config/paper.yaml"), "--profile", "lumi",
                     "--directory", str(tmp_path / "work"), "--", "pretrain", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "rule pretrain_megatron:" in out
    assert "gpu=128, nodes=16, tasks=128, tasks_per_gpu=1" in out
    assert out.count("slurm_account=project_465000000") == out.count("resources:") > 70
    launch = next(line for line in out.splitlines() if "mergelimits.megatron.train_gpt" in line)
    launch = launch.removeprefix("Shell command: ")
    envdir = env["MERGELIMITS_ENV"]
    assert launch.startswith("srun --nodes=16 --ntasks-per-node=8 --gpus-per-node=8 --cpus-per-task=7 "
                             "--cpu-bind=mask_cpu:")
    assert (f"$(command -v apptainer || command -v singularity) exec --home $PWD "
            f"--bind {envdir}/venv.sqsh:/user-software:image-src=/ {envdir}/image.sif python -m "
            "mergelimits.megatron.train_gpt") in launch
    assert out.count("rule fetch_hplt_checkpoint:") == 10 * 8  # ten languages × eight steps
    assert out.count("rule export_megatron:") == 8


def test_a_lumi_run_without_account_or_image_stops_before_any_job(tmp_path):
    env = {**lumi_env(tmp_path), "HF_HUB_OFFLINE": "1"}
    slurm = tmp_path / "bin"
    slurm.mkdir()
    for cmd in ("sbatch", "squeue", "sinfo"):  # a Slurm that answers
        (slurm / cmd).write_text("#!/bin/sh\nexit 0\n")
        (slurm / cmd).chmod(0o755)
    env["PATH"] = f"{slurm}{os.pathsep}{env['PATH']}"

    def run(**changes):
        e = {**env, **changes}
        for k in [k for k, v in changes.items() if v is None]:
            del e[k]
        return snakemake("--configfile", str(ROOT / "config/paper.yaml"), "--profile", str(ROOT / "profiles/lumi"),
                         "--directory", str(tmp_path / "work"), "--",
                         "results/paper/merges/successive_order.json", env=e)  # a local job of a second

    proc = run(SBATCH_ACCOUNT=None)
    assert proc.returncode != 0 and "SBATCH_ACCOUNT is not set: export SBATCH_ACCOUNT=project_<number>" in proc.stderr
    proc = run(MERGELIMITS_ENV=None)
    assert proc.returncode != 0
    assert "MERGELIMITS_ENV is not set, so the container $MERGELIMITS_ENV/image.sif names nothing" in proc.stderr
    proc = run(MERGELIMITS_ENV=str(tmp_path / "nowhere"))
    assert proc.returncode != 0 and f"{tmp_path / 'nowhere'}/image.sif does not exist" in proc.stderr
    # without LUMI's bindings module RCCL would silently fall back to TCP sockets
    proc = run(SINGULARITY_BIND=None)
    assert proc.returncode != 0
    assert ("the containers would not see /opt/cray, /usr/lib64/libcxi.so.1, /var/spool/slurmd (not in "
            "SINGULARITY_BIND): load LUMI's bindings") in proc.stderr
    proc = run(SINGULARITY_BIND="/var/spool/slurmd,/opt/cray")
    assert proc.returncode != 0 and "would not see /usr/lib64/libcxi.so.1 (not in" in proc.stderr
    assert not (tmp_path / "work" / "results").exists()


def test_lumi_sbatch_lines():
    """The lines the Slurm plugin builds from the paper config's resources and the LUMI profile
    (a workflow `profiles/default` once replaced the profile's partitions and runtimes)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import sbatch_lines

    assert not (ROOT / "profiles/default").exists()
    lines = sbatch_lines.lines(str(ROOT / "config/paper.yaml"), str(ROOT / "profiles/lumi"), ["all"])
    pre = lines["pretrain_megatron"].split()
    for flag in ("standard-g", "--nodes=16", "--gpus=128", "--ntasks=128", "--ntasks-per-gpu=1", "--cpus-per-task=7",
                 "--exclusive", "--mem", "480000", "2880"):
        assert flag in pre, (flag, pre)
    assert lines["merge_evaluate"] == "sbatch -p small-g -t 900 --mem 60000 --cpus-per-task=7 --gpus=1"
    assert lines["evaluate_model"] == "sbatch -p small-g -t 900 --mem 60000 --cpus-per-task=7 --gpus=1"
    assert lines["evaluate_expert"] == lines["evaluate_model"]
    assert lines["init_model"] == "sbatch -p small-g -t 60 --mem 60000 --cpus-per-task=7 --gpus=1"
    for rule in ("make_tables", "score_store", "aggregate_scores"):
        assert lines[rule] == "sbatch -p small -t 60 --mem 16000 --ntasks=1 --cpus-per-task=4"
    for rule in ("fetch_benchmark", "fetch_hplt_checkpoint", "fetch_corpus", "fetch_tokenizer", "flores_pairs",
                 "lm_eval_tasks", "cka", "table8", "make_figures", "all"):
        assert lines[rule].startswith("local rule")
    # The branch ablation's rules are placed as the rules they derive from: profiles name
    # rules, and a derived rule left out would go to the CPU partition (and, here, to srun).
    branch = sbatch_lines.lines([str(ROOT / "config/paper.yaml"), str(ROOT / "config/paper-branch.yaml")],
                                str(ROOT / "profiles/lumi"), ["all"])
    assert branch["pretrain_megatron_branch"] == branch["pretrain_megatron"]
    assert branch["megatron_index_expert"] == branch["megatron_index"]


def test_an_external_baseline_is_fetched_evaluated_and_tabled(mini_runs):
    """The mini study's baseline, a GPT-2 with its own tokenizer served from a local hub
    cache as the hub serves it: fetched once (its commit recorded), evaluated with the study's
    own tasks, and shown last in Table 1 with the parameters counted from its weights and its
    model card's tokens."""
    from safetensors.torch import load_file

    from mergelimits.synthetic.hub_cache import commit_of

    from .conftest import MINI_BASELINE

    res = mini_runs.a / "results/tiny"
    out = res / "models/ext-tiny_gpt/step~0"
    assert json.loads((out / "source.json").read_text())["commit"] == commit_of(MINI_BASELINE["repo"], "main")
    assert mini_runs.out["a"].count("rule fetch_baseline:") == 1
    t1 = pd.read_csv(res / "tables/table1.csv")
    assert t1.model.iloc[-1] == MINI_BASELINE["label"]
    row = t1.set_index("model").loc[MINI_BASELINE["label"]]
    params = sum(v.numel() for v in load_file(out / "model.safetensors").values())
    assert row["Params/B"] == pytest.approx(params / 1e9) and row["Tokens/B"] == MINI_BASELINE["tokens_b"]
    agg = pd.read_csv(res / "eval/aggregate.tsv", sep="\t")
    mine = agg[(agg.model == "ext-tiny_gpt") & (agg.benchmark == "multiblimp") & (agg.lang != "mean")]
    assert len(mine) == 3 and (mine.step == 0).all()
    mean = agg[(agg.model == "ext-tiny_gpt") & (agg.benchmark == "multiblimp") & (agg.lang == "mean")]
    assert mean.score.iloc[0] == pytest.approx(mine.score.mean())  # and the mean over them, with its CI
    assert row["multiblimp μ"] == pytest.approx(mine.score.mean())
    # the study's own rows: 200 steps × 2 sequences × 128 tokens each, a merge its members' together
    tokens = t1.set_index("model")["Tokens/B"]
    assert tokens["Mixed3"] == pytest.approx(200 * 2 * 128 / 1e9) and tokens["Merged3 linear"] == 3 * tokens["Mixed3"]


@pytest.mark.parametrize("target", ["install", "install-login"])
def test_an_old_python_stops_the_install_in_one_line_before_anything_is_made(tmp_path, target):
    """LUMI's system python3 is 3.6: `make install` (or install-login) stops at once, saying
    which module gives 3.11, and creates no venv."""
    fake = tmp_path / "python3.6"
    fake.write_text('#!/bin/sh\nexec python3 -c "import sys; sys.version_info = (3, 6, 15, \'final\', 0); '
                    'exec(sys.argv[1])" "$2"\n')
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    proc = subprocess.run(["make", "-s", target, f"PY={fake}", f"VENV={venv}"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode != 0
    assert f"{fake} is Python 3.6; the project needs 3.11 or 3.12 (on LUMI: module load cray-python/3.11.7" in (
        proc.stderr.splitlines()[0])
    assert not venv.exists()


def test_every_name_the_workflow_imports_is_used():
    """ruff does not read .smk files: each name the Snakefile and the rule files import must
    be used somewhere in them (they share one namespace)."""
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").rglob("*.smk"))]
    text = {str(f.relative_to(ROOT)): f.read_text() for f in files}
    imported = {}
    for name, src in text.items():
        for m in re.finditer(r"^(?:from \S+ )?import (.+)$", src, re.M):
            for part in m[1].split(","):
                imported[part.split(" as ")[-1].strip()] = name
    body = "\n".join(line.split(" # ")[0] for src in text.values() for line in src.splitlines()
                     if not re.match(r"\s*#|(from \S+ )?import ", line))
    # a use, not a file suffix (".json") nor a word in a string
    unused = {n: f for n, f in imported.items() if not re.search(rf"(?<![\w.\"'/]){re.escape(n)}\b(?![\w\"'])", body)}
    assert imported and not unused
