"""A benchmark added the way docs/extending.md says: one module and its lm-eval template in a
folder outside the package (MERGELIMITS_BENCHMARKS), its codes in the module. Nothing else
changes: the config schema takes its keys, the tiny study generates its items, and the mini
study's own rules evaluate an expert on it."""

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from .conftest import ROOT, mini_config, snakemake_cmd

MODULE = '''
"""A toy completion task: the shared start of a MultiBLiMP-style minimal pair, then its two
endings; the grammatical one is right."""

from os.path import commonprefix

from mergelimits.benchmarks import Benchmark

BENCHMARK = Benchmark("toyqa", "ToyQA", "ToyQA accuracy", table=12, files=("test.jsonl",),
                      columns=("prefix", "good", "bad"), split="test", metric="acc", kind="choice",
                      chance=50.0, parallel=False)
CODES = {"deu": "de", "eng": "en", "fra": "fr"}


def options(doc):
    return [doc["good"], doc["bad"]], 0


def prompt(lang, layout, doc):
    return doc["prefix"], options(doc)[0]


def generate(langs, rng, sizes):
    from mergelimits.synthetic import grammar

    out = {}
    for code, lang in langs.items():
        rows = []
        for pair in grammar.minimal_pairs(lang, rng("toyqa", code), sizes["toyqa"]):
            words = commonprefix([pair["sen"].split(), pair["wrong_sen"].split()])
            if words:
                n = len(words)
                rows.append({"prefix": " ".join(words), "good": " ".join(pair["sen"].split()[n:]),
                             "bad": " ".join(pair["wrong_sen"].split()[n:])})
        out[code] = {"test.jsonl": rows}
    return out
'''

TEMPLATE = """\
output_type: multiple_choice
test_split: test
doc_to_text: query
target_delimiter: " "
doc_to_choice: options
doc_to_target: gold
metric_list:
  - {metric: acc, aggregation: mean, higher_is_better: true}
metadata: {version: 1}
"""


@pytest.fixture
def plugin(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toyqa.py").write_text(textwrap.dedent(MODULE))
    (folder / "toyqa.yaml").write_text(TEMPLATE)
    return folder


def _run(env, *code):
    return subprocess.run([sys.executable, "-c", "\n".join(code)], env=env, capture_output=True, text=True, timeout=120)


def test_a_benchmark_module_outside_the_package_joins_the_registry_and_the_schema(plugin, tiny_config, tmp_path):
    env = {**os.environ, "MERGELIMITS_BENCHMARKS": str(plugin)}
    cfg = mini_config(tiny_config)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = _run(env, "import yaml; from mergelimits import benchmarks, config, languages",
               "print(list(benchmarks.BENCHMARKS)); print(languages.get('eng').source_code('toyqa'))",
               f"config.validate(yaml.safe_load(open({str(path)!r})))")
    assert out.returncode != 0 and "data.generated.items" in out.stderr and "toyqa" in out.stderr  # required now
    assert out.stdout.splitlines() == ["['multiblimp', 'belebele', 'hellaswag', 'xcsqa', 'flores', 'toyqa']", "en"]
    # without the folder it is unknown, and a config naming it is refused by name
    cfg["benchmarks"].append("toyqa")
    path.write_text(yaml.safe_dump(cfg))
    out = _run({k: v for k, v in env.items() if k != "MERGELIMITS_BENCHMARKS"},
               "import yaml; from mergelimits import config", f"config.validate(yaml.safe_load(open({str(path)!r})))")
    assert "unknown benchmark 'toyqa'" in out.stderr


def test_the_mini_studys_rules_generate_and_evaluate_an_added_benchmark(plugin, tiny_config, tmp_path):
    cfg = mini_config(tiny_config, steps=20)  # what is scored matters here, not how well
    cfg["benchmarks"] = ["multiblimp", "toyqa"]
    cfg["data"]["generated"]["items"]["toyqa"] = 10
    cfg["evaluate"]["num_fewshot"]["toyqa"] = 1
    cfg["baselines"] = []
    config = tmp_path / "mini-toyqa.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    target = f"results/tiny/eval/mono-deu/step~{cfg['pretrain']['steps']}/scores.tsv"
    env = {**os.environ, "MERGELIMITS_BENCHMARKS": str(plugin), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(snakemake_cmd("--configfile", str(config), "--directory", str(work), "--profile",
                                        str(ROOT / "profiles/local"), "--cores", "2", target),
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    items = pd.read_json(work / "results/tiny/data/benchmarks/toyqa/lang~deu/test.jsonl", lines=True)
    assert len(items) >= 5 and set(items.columns) == {"prefix", "good", "bad"}
    scores = pd.read_csv(work / target, sep="\t")
    toy = scores[scores["benchmark"] == "toyqa"]
    assert sorted(toy["item"]) == list(range(len(items)))  # every item, by its index in the file
    assert set(toy["lang"]) == {"deu"} and set(toy["acc"]) <= {0.0, 1.0}
    # the request lm-eval built is the module's: the prefix, then each ending after a space
    samples = [json.loads(line) for line in (work / target).with_name("samples.jsonl").read_text().splitlines()]
    first = next(s for s in samples if s["task"] == "ml_toyqa_deu" and s["doc"]["item"] == 0)
    ctx, ending = first["arguments"][0][0], first["arguments"][0][1]
    assert ctx.endswith(items["prefix"][0]) and ending == " " + items["good"][0]
