"""The paper rebuilt from published weights (config/paper-published.yaml), at the smoke
config's size: the authors' step 0, Mixed model and merges served by the smoke run's local
hub cache (mergelimits.synthetic.hub_cache), fetched, checked and compared through the workflow's
rules."""

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from mergelimits import hub, merge, model
from mergelimits.synthetic import hub_cache as fixture_hub

from .conftest import PUBLISHED_CONFIGS as CONFIGS
from .conftest import ROOT, jobs_run, snakemake_cmd

R = "results/paper-smoke"


@pytest.fixture(scope="module")
def published(smoke, smoke_hub, tmp_path_factory):
    """The smoke run's hub, with the authors' merge at step 4 changed in one tensor, and one
    run (--keep-going) for both comparisons, Mixed3's fetch and verify_init. The tokenizer and
    HPLT's experts are the smoke run's (copied with their times: not fetched again)."""
    from types import SimpleNamespace

    cache, work = smoke_hub, tmp_path_factory.mktemp("published")
    for part in ["data/tokenizer", *(f"models/mono-{lang}" for lang in ("eng", "fra", "tur"))]:
        shutil.copytree(smoke.work / R / part, work / R / part, copy_function=shutil.copy2)
    config = fixture_hub.load_config(CONFIGS)
    pub = config["merge"]["published"]
    step4 = fixture_hub.snapshot(cache, pub["repo"], pub["revision"].format(step=4), "model") / model.WEIGHTS
    weights = load_file(step4)
    weights["model.layers.1.mlp.up_proj.weight"] += 1e-3  # a merge that is not this workflow's
    save_file(weights, step4, metadata={"format": "pt"})
    targets = [f"{R}/merges/published/linear-all3/step~{s}.tsv" for s in (4, 8)] + [
        f"{R}/models/mixed3/step~8/model.safetensors", f"{R}/models/init/verify_init.tsv"]
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(snakemake_cmd("--configfile", *CONFIGS, "--directory", str(work), "--profile",
                                        str(ROOT / "profiles/local"), "--keep-going", "--", *targets),
                          capture_output=True, text=True, env=env)
    return SimpleNamespace(work=work, cache=cache, config=config, proc=proc, out=proc.stdout + proc.stderr)


def test_nothing_is_trained_and_the_step0_is_the_authors(published):
    ran = jobs_run(published.out)
    assert not {"pretrain_megatron", "megatron_index", "fetch_corpus", "export_megatron"} & set(ran)
    assert ran == {"fetch_init": 1, "verify_init": 1, "fetch_mixed_checkpoint": 1, "fetch_published_merge": 2,
                   "compare_published_merge": 2}
    init = published.work / R / "models/init"
    record = json.loads((init / model.RECORD).read_text())
    src = published.config["pretrain"]["init_hub"]
    assert record["engine"] == "hub" and record["repo"] == src["repo"] and record["revision"] == src["revision"]
    assert record["commit"] == fixture_hub.commit_of(src["repo"], src["revision"])
    assert model.verify_init(init, published.config["pretrain"]["arch"])["sha256"] == record["sha256"]
    served = fixture_hub.snapshot(published.cache, src["repo"], src["revision"], "model") / model.WEIGHTS
    a, b = load_file(served), load_file(init / model.WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (published.work / R / "models/init/verify_init.tsv").exists()  # closeness to HPLT's branch checked
    mixed = published.config["pretrain"]["mixed_hub"]
    served = fixture_hub.snapshot(published.cache, mixed["repo"], mixed["revision"].format(step=8), "model")
    a, b = load_file(served / model.WEIGHTS), load_file(published.work / R / "models/mixed3/step~8" / model.WEIGHTS)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # Mixed3 as published
    assert json.loads((published.work / R / "models/mixed3/step~8/source.json").read_text())["commit"] == served.name


def test_the_merge_equal_to_the_authors_passes_and_the_changed_one_fails(published):
    assert published.proc.returncode != 0  # the step-4 comparison
    same = pd.read_csv(published.work / R / "merges/published/linear-all3/step~8.tsv", sep="\t")
    assert len(same) > 10 and same["max_ulp"].max() == 0 and same["differing"].sum() == 0
    assert not (published.work / R / "merges/published/linear-all3/step~4.tsv").exists()
    log = (published.work / "logs/paper-smoke/merge/compare_published/linear-all3/step~4.log").read_text()
    assert ("linear-all3 at step 4 is not the published merge sethjsa/merged-10-checkpoints@checkpoint_0000004: "
            "model.layers.1.mlp.up_proj.weight differs by") in log
    assert "(tolerance 4, merge.published.tolerance_ulp)" in log  # three members: N + 1 ulps


def test_ulp_distance_counts_representable_values_between():
    one = torch.tensor([1.0], dtype=torch.float16)
    after = torch.nextafter(one.float(), torch.tensor([2.0])).to(torch.float16)  # float32's next rounds back
    assert after.item() == 1.0
    step = torch.tensor([1.0 + 2**-10], dtype=torch.float16)
    assert merge.ulp_distance(one, step).item() == 1
    assert merge.ulp_distance(torch.tensor([0.0]), torch.tensor([-0.0])).item() == 0
    tiny = torch.tensor([2**-24], dtype=torch.float16)  # the smallest subnormal: one step from ±0
    assert merge.ulp_distance(tiny, -tiny).item() == 2
    b = torch.tensor([1.0, -2.0], dtype=torch.bfloat16)
    assert merge.ulp_distance(b, torch.tensor([1.0078125, -2.0], dtype=torch.bfloat16)).tolist() == [1, 0]


def test_a_published_step0_of_another_shape_or_vocabulary_is_refused(published, tmp_path, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(published.cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = published.config["pretrain"]
    tok = published.work / R / "data/tokenizer"
    with pytest.raises(ValueError, match=r"sethjsa/mixed-10-checkpoints: no branch 'checkpoint_0000001'"):
        hub.fetch_init({**cfg["init_hub"], "revision": "checkpoint_0000001"}, cfg["arch"], tok, tmp_path / "a")
    with pytest.raises(ValueError, match=r"pretrain.arch.layers: config 3, checkpoint 2"):
        hub.fetch_init(cfg["init_hub"], {**cfg["arch"], "layers": 3}, tok, tmp_path / "b")
    with pytest.raises(ValueError, match=r"has a vocabulary of \d+ but the study's models have \d+"):
        hub.fetch_init(cfg["init_hub"], {**cfg["arch"], "vocab_multiple": 1000}, tok, tmp_path / "c")
    assert not any((tmp_path / d).exists() for d in "abc")
