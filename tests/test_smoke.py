"""The paper config's DAG at toy size (config/paper-smoke.yaml over config/paper.yaml): every
hub source served in its real format by a local hub cache (mergelimits.synthetic.hub_cache),
Mixed3 pre-trained by megatron-core with torchrun on 2 CPU ranks through the rule that runs
with srun on LUMI, and every rule of the paper's DAG executed."""

import json
import subprocess
from collections import Counter

import pandas as pd
import torch
from safetensors.torch import load_file

from mergelimits import model, tokenizer
from mergelimits.synthetic import hub_cache as fixture_hub
from mergelimits.synthetic import manifests

from .conftest import SMOKE_CONFIGS as CONFIGS
from .conftest import jobs_run, snakemake_cmd

R = "results/paper-smoke"


def test_the_smoke_run_executes_every_rule_of_the_paper_dag(smoke):
    plan = subprocess.run(snakemake_cmd("-n", "--quiet", "rules", "--configfile", CONFIGS[0]),
                          capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr[-2000:]
    paper_rules = set(jobs_run(plan.stdout))
    ran = jobs_run(smoke.out)
    assert len(paper_rules) > 25, plan.stdout
    assert paper_rules - set(ran) == set(), f"rules of the paper DAG the smoke run never ran: {paper_rules - set(ran)}"


def test_every_source_is_fetched_from_the_hub_with_its_commit(smoke):
    w = smoke.work / R
    record = json.loads((w / "data/benchmarks/flores/lang~fra/devtest.jsonl.source.json").read_text())
    assert record == {**record, "repo": "openlanguagedata/flores_plus",
                      "commit": fixture_hub.commit_of("openlanguagedata/flores_plus", "main")}
    hella = json.loads((w / "data/benchmarks/hellaswag/lang~eng/validation.jsonl.source.json").read_text())
    assert hella["repo"] == "Rowan/hellaswag"  # the per-language override, read from Parquet
    assert tokenizer.load(w / "data/tokenizer").bos_token == "<s>"
    corpus = json.loads((w / "data/corpus/mono-tur/source.json").read_text())
    # data.hub.corpus.max_files: the first two of three shards, named as HPLT's main names
    # them (the recorded listing's rule), and nothing else downloaded
    assert corpus["files"] == [f"tur_Latn/train-0000{i}-of-00003.parquet" for i in range(2)]
    eng = json.loads((w / "data/corpus/mono-eng/source.json").read_text())
    assert eng["files"] == manifests.corpus_shards("eng_Latn", 2)  # English's split folders
    snap = next((smoke.cache / "datasets--HPLT--HPLT2.0_cleaned" / "snapshots").iterdir())
    assert len(list(snap.rglob("*.parquet"))) == 3 * 3  # the fixture serves three per language
    hplt = json.loads((w / "models/mono-eng/step~8/source.json").read_text())
    assert hplt["repo"] == "HPLT/hplt2c_eng_checkpoints" and hplt["revision"] == "checkpoint_0000008"


def test_the_published_experts_start_from_the_rebuilt_step0(smoke):
    """verify_init compares the rebuilt init with HPLT's early branch (the fixture's experts
    moved away from the same Megatron step 0): close, yet not the same weights."""
    checks = pd.read_csv(smoke.work / R / "models/init/verify_init.tsv", sep="\t")
    matrices = checks[checks["matrix"]]
    assert len(matrices) == 1 + 2 * 7  # embeddings (tied) and seven matrices per layer
    assert smoke.config["pretrain"]["verify_init"]["min_cosine"] < matrices["cosine"].median() < 0.999


def test_mixed_is_pretrained_by_megatron_on_two_ranks_and_exported(smoke):
    from .test_train_gpt import digests

    w = smoke.work / R
    log = (smoke.work / "logs/paper-smoke/pretrain/pretrain_megatron/mixed3.log").read_text()
    # Both ranks log their weights' digest at steps 4 and 8 (check_weight_hash_interval) and at
    # the end: two sets of weights, each held by both ranks.
    held = Counter(digests(log))
    assert len(held) == 2 and sorted(held.values()) == [2, 4], held
    assert "identical across data-parallel replicas: False" not in log
    steps, gb, seq = 8, 4, smoke.config["pretrain"]["arch"]["seq_len"]
    for lang in ("eng", "fra", "tur"):  # Mixed3 reads a third of its tokens in each language
        record = json.loads((w / f"megatron/data/mono-{lang}.json").read_text())
        assert record["tokens"] >= record["budget"] == steps * gb * seq // 3
    init = load_file(w / "models/init" / model.WEIGHTS)
    for step in (4, 8):
        hf = load_file(w / f"models/mixed3/step~{step}" / model.WEIGHTS)
        assert hf.keys() == init.keys()
        assert not torch.equal(hf["model.norm.weight"], init["model.norm.weight"])


def test_the_tables_and_figures_hold_every_configured_model(smoke):
    w = smoke.work / R
    store = pd.read_parquet(w / "eval/scores.parquet")
    models = set(store["model"])
    assert {"mono-eng", "mono-fra", "mono-tur", "mixed3", "linear-all3", "ties-all3", "dare_ties-all3",
            "linear-eng+fra", "linear-succ2", "ext-tiny_gpt"} <= models
    benches = {"multiblimp", "belebele", "hellaswag", "xcsqa", "flores"}
    controls = {f"{b}~{c}" for b in ("belebele", "hellaswag", "xcsqa") for c in ("blind", "shuffled")}
    assert set(store["benchmark"]) == benches | controls  # the paper config's controls, on the real formats
    ctl = store[store.benchmark.str.contains("~")]
    assert set(ctl.model) == {"mono-eng", "mono-fra", "mono-tur", "mixed3", "linear-all3", "ties-all3",
                              "dare_ties-all3", "ext-tiny_gpt"}  # the tables' rows only
    assert (w / "tables/controls.html").stat().st_size > 0
    for name in ("figure1", "figure2", "figure3", "cka_heatmap"):
        assert (w / "figures" / f"{name}.png").stat().st_size > 1000


def test_every_job_runs_in_the_image_and_the_launcher_outside_it(smoke):
    """As on LUMI: every rule's command inside the container; the pre-training's launcher
    (torchrun here, srun there) outside it, starting one `singularity exec … python` per rank."""
    lines = (smoke.work / "singularity.log").read_text().splitlines()
    execs = [line for line in lines if " exec " in line]
    ranks = [line for line in execs if "mergelimits.megatron.train_gpt" in line]
    assert ranks == [f"singularity exec --home {smoke.work} {smoke.image} python -m mergelimits.megatron.train_gpt "
                     "results/paper-smoke/megatron/mixed3/run.json"] * 2
    assert not [line for line in execs if "torchrun" in line]
    jobs = sum(jobs_run(smoke.out).values()) - 1  # every job but the target rule `all`
    assert len(execs) - len(ranks) == jobs - 1  # and but pretrain_megatron, whose ranks are inside
    assert all(f"{smoke.image} bash -c" in line or f"{smoke.image} sh -c" in line for line in execs if line not in ranks)


def test_the_paper_configs_report_shows_no_rst_error(smoke, tmp_path):
    """`snakemake --report` over the paper config's DAG: its front page (baselines, HPLT's
    experts) and every caption rendered with the rules' own params, no docutils warning."""
    from .test_report import report_problems

    report = tmp_path / "report.html"
    made = subprocess.run(snakemake_cmd("--configfile", *CONFIGS, "--directory", str(smoke.work), "--report",
                                        str(report), "--config", f"container={smoke.image}"),
                          capture_output=True, text=True, env=smoke.env)
    assert made.returncode == 0, made.stderr[-3000:]
    assert not report_problems(report.read_text(encoding="utf-8"), made.stderr)
