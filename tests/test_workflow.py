"""The workflow itself: dry runs of both configs, and the tiny data stage run for real."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from mergelimits import benchfiles, languages, tokenizer

from .conftest import ROOT


def snakemake(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args],
                          capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run(configfile, tmp_path):
    proc = snakemake("-n", "--configfile", str(ROOT / configfile), "--directory", str(tmp_path), "data")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_paper_dry_run_fetches_every_available_file(tmp_path):
    proc = snakemake("-n", "--quiet", "rules", "--configfile", str(ROOT / "config/paper.yaml"),
                     "--directory", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    langs = list(languages.table())
    expected = sum(len(languages.available(b, langs)) * len(benchfiles.bench_files(b)) for b in languages.BENCHMARKS)
    assert re.search(rf"^fetch_benchmark\s+{expected}$", proc.stdout, re.M), proc.stdout
    assert expected == 9 + 10 + 10 + 9 + 20


@pytest.mark.slow
def test_tiny_study_runs_to_its_tables(cfg, tmp_path):
    cfg["data"]["generated"].update(pretrain_docs=100, sentences_per_doc=4,
                                    items={"multiblimp": 20, "belebele": 8, "hellaswag": 8, "xcsqa": 8},
                                    flores={"dev": 3, "devtest": 6})
    cfg["data"]["tokenizer"]["vocab_size"] = 600
    cfg["pretrain"].update(steps=6, batch_size=2, checkpoints=[3, 6])
    cfg["pretrain"]["arch"].update(hidden=32, ffn=64)
    cfg["merge"].update(pairs=["deu+nld", "fra+tur"], all={"methods": ["linear", "dare_ties"], "steps": [6]})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = snakemake("--configfile", str(path), "--directory", str(tmp_path), "--profile", str(ROOT / "profiles/local"),
                     "data", "pretrain", "merge", "tables")
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = tmp_path / "results" / "tiny" / "data"
    for bench in languages.BENCHMARKS:
        for lang in languages.available(bench, cfg["languages"]):
            for name in benchfiles.bench_files(bench):
                assert len(benchfiles.load(bench, root / "benchmarks" / bench / f"lang~{lang}" / name)) > 0
    mixed = [json.loads(line) for line in (root / "corpus" / "mixed10" / "train.jsonl").read_text().splitlines()]
    assert {r["lang"] for r in mixed} == set(cfg["languages"]) and len(mixed) == 100
    record = json.loads((root / "benchmarks" / "generated.json").read_text())
    assert record["seed"] == cfg["seeds"]["data"]
    tok = tokenizer.load(root / "tokenizer")
    assert tok.bos_token_id is not None and len(tok) == 600
    for log in ("generate_corpora", "generate_benchmarks", "train_tokenizer"):
        assert (tmp_path / "logs" / "tiny" / "data" / f"{log}.log").stat().st_size > 0
    models = tmp_path / "results" / "tiny" / "models"
    assert json.loads((models / "init" / "init.json").read_text())["seed"] == cfg["seeds"]["init"]
    for name in ["mixed10"] + [f"mono-{lang}" for lang in cfg["languages"]]:
        for step in (3, 6):
            meta = json.loads((models / name / f"step~{step}" / "train.json").read_text())
            assert meta["step"] == step and meta["config"]["seed"] == cfg["seeds"]["train"]
    assert "tokens/s" in (tmp_path / "logs" / "tiny" / "pretrain" / "mixed10.log").read_text()
    # Merges: records beside temporary weights, deleted once evaluated.
    dare = json.loads((models / "dare_ties-all10" / "step~6" / "merge.json").read_text())
    assert dare["seed"] == cfg["seeds"]["merge"] and dare["density"] == 0.75 and len(dare["members"]) == 10
    assert not (models / "dare_ties-all10" / "step~6" / "model.safetensors").exists()
    order = json.loads((tmp_path / "results/tiny/merges/successive_order.json").read_text())["order"]
    succ = json.loads((models / "linear-succ3" / "step~6" / "merge.json").read_text())
    assert [m.split("/")[-2] for m in succ["members"]] == [f"mono-{lang}" for lang in order[:3]]
    sim = (tmp_path / "results/tiny/merges/parametric_similarity.tsv").read_text().splitlines()
    assert len(sim) == 1 + 45
    # Nothing left to do: the stages are incremental.
    # Tables come from the store: Table 1's Mixed10 row is the mean of its per-language scores.
    import pandas as pd

    store = pd.read_parquet(tmp_path / "results/tiny/eval/scores.parquet")
    t1 = pd.read_csv(tmp_path / "results/tiny/tables/table1.csv").set_index("model")
    mb = store[(store.model == "mixed10") & (store.step == 6) & (store.benchmark == "multiblimp")]
    assert t1.loc["Mixed10", "multiblimp μ"] == pytest.approx(100 * mb.groupby("lang").acc.mean().mean())
    assert set(store[store.model == "linear-deu+nld"].lang) == {"deu", "nld"}
    for table in ("table2_multiblimp.md", "table6_flores.tex", "table7_flores_examples.csv"):
        assert (tmp_path / "results/tiny/tables" / table).stat().st_size > 0
    again = snakemake("-n", "--configfile", str(path), "--directory", str(tmp_path), "data", "pretrain", "merge",
                      "tables")
    assert "Nothing to be done" in again.stdout + again.stderr
    # One pair rebuilt alone: one merge job, nothing upstream.
    one = snakemake("-n", "--quiet", "rules", "--configfile", str(path), "--directory", str(tmp_path),
                    "--forcerun", "merge_evaluate", "--", "results/tiny/models/linear-deu+nld/step~6/merge.json")
    assert re.search(r"^merge_evaluate\s+1$", one.stdout, re.M) and "pretrain_torch" not in one.stdout, one.stdout


def test_paper_dry_run_with_the_lumi_profile(tmp_path):
    """The LUMI profile's resources reach the jobs (apptainer is absent here, so
    env-modules stands in for it as the deployment method)."""
    proc = snakemake("-n", "--configfile", str(ROOT / "config/paper.yaml"), "--profile", str(ROOT / "profiles/lumi"),
                     "--sdm", "env-modules", "--directory", str(tmp_path), "--", "pretrain")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "rule pretrain_megatron:" in out
    assert "gpu=128, nodes=16, tasks=128, tasks_per_gpu=1" in out
    assert "slurm_partition=standard-g" in out and "srun --cpu-bind=mask_cpu:" in out
    assert "python -m mergelimits.megatron.train_gpt" in out
    assert out.count("rule fetch_hplt_checkpoint:") == 10 * 7  # ten languages × seven steps
    assert out.count("rule export_megatron:") == 7


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
    assert lines["merge_evaluate"] == "sbatch -p small-g -t 150 --mem 60000 --cpus-per-task=7 --gpus=1"
    assert lines["evaluate_model"] == "sbatch -p small-g -t 120 --mem 60000 --cpus-per-task=7 --gpus=1"
    assert lines["activations"] == "sbatch -p small-g -t 60 --mem 60000 --cpus-per-task=7 --gpus=1"
    for rule in ("make_tables", "score_store", "aggregate_scores", "init_model"):
        assert lines[rule] == "sbatch -p small -t 60 --mem 16000 --ntasks=1 --cpus-per-task=4"
    for rule in ("fetch_benchmark", "fetch_hplt_checkpoint", "fetch_corpus", "fetch_tokenizer", "flores_pairs",
                 "lm_eval_tasks", "cka", "table8", "make_figures", "all"):
        assert lines[rule].startswith("local rule")
