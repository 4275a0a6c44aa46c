"""The tiny study (three languages, short) dispatched through a real one-node Slurm by the
Snakemake Slurm executor plugin, against a local run of the same config.

Run with `make test-slurm` (root: it installs and starts Slurm with tools/local-slurm.sh).
"""

import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from .conftest import ROOT

pytestmark = [pytest.mark.slurm,
              pytest.mark.skipif(shutil.which("sbatch") is None, reason="no Slurm here (make test-slurm)")]


def mini(cfg):
    cfg["languages"] = ["deu", "fra", "eng"]  # fra: the source of English FLORES
    cfg["data"]["generated"].update(pretrain_docs=60, sentences_per_doc=4, flores={"dev": 2, "devtest": 4},
                                    items={"multiblimp": 12, "belebele": 4, "hellaswag": 4, "xcsqa": 4})
    cfg["data"]["tokenizer"]["vocab_size"] = 400
    cfg["pretrain"].update(steps=6, batch_size=2, checkpoints=[3, 6])
    cfg["pretrain"]["arch"].update(hidden=32, ffn=64)
    cfg["merge"].update(all={"methods": ["linear"], "steps": "all"}, pair_methods=["linear"],
                        successive={"methods": ["linear"]})
    cfg["evaluate"].update(bootstrap=50, flores_examples={"lang": "deu", "n": 2})
    return cfg


def run(workdir, configfile, *extra):
    return subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                           "--configfile", str(configfile), "--directory", str(workdir), *extra],
                          capture_output=True, text=True, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1",
                                                               "HF_DATASETS_OFFLINE": "1"})


def test_slurm_run_equals_local_run(cfg, tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(mini(cfg)))
    local = run(tmp_path / "local", path, "--cores", "2")
    assert local.returncode == 0, local.stderr[-3000:]
    slurm = run(tmp_path / "slurm", path, "--profile", str(ROOT / "profiles/slurm-test"))
    assert slurm.returncode == 0, slurm.stderr[-3000:]
    assert "has been submitted with SLURM jobid" in slurm.stdout + slurm.stderr
    keys = ["model", "step", "benchmark", "lang", "item"]
    a, b = (pd.read_parquet(tmp_path / d / "results/tiny/eval/scores.parquet").sort_values(keys).reset_index(drop=True)
            for d in ("local", "slurm"))
    pd.testing.assert_frame_equal(a, b)
    for table in ("table1.csv", "table8.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local/results/tiny/tables" / table),
                                      pd.read_csv(tmp_path / "slurm/results/tiny/tables" / table))
