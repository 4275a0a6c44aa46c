"""Merge methods and benchmarks are declared once; everything else follows the registry."""

import copy
import re

import pytest
import torch
import yaml
from safetensors.torch import load_file

from mergelimits import benchmarks, config, languages, merge, modelid, registry
from mergelimits.model import WEIGHTS
from mergelimits.study import Study, table_stem


def test_the_schema_file_lists_the_registered_methods():
    schema = yaml.safe_load(config.SCHEMA.read_text())
    assert schema["properties"]["merge"]["$defs"]["methods"]["items"]["enum"] == list(registry.MERGE_METHODS)


def test_benchmark_facts_come_from_their_modules():
    assert languages.sources()[-len(benchmarks.BENCHMARKS):] == tuple(benchmarks.BENCHMARKS)
    for name, b in benchmarks.BENCHMARKS.items():
        assert b.module.__name__ == f"mergelimits.benchmarks.{name}"
        assert b.template == b.template.with_name(f"{name}.yaml") and b.template.is_file()  # beside it
        assert b.split in {f.split(".")[0] for f in b.files}
        assert (b.chance is None) == (b.kind == "generation")
    # the schema's per-benchmark keys are the registry's, none left in the file
    schema = config.load_schema()["properties"]
    assert set(schema["evaluate"]["properties"]["num_fewshot"]["properties"]) == set(benchmarks.BENCHMARKS)
    assert set(benchmarks.BENCHMARKS) <= set(schema["data"]["properties"]["hub"]["properties"])
    assert "properties" not in yaml.safe_load(config.SCHEMA.read_text())["properties"]["evaluate"]["properties"][
        "num_fewshot"]
    # the paper's table numbers, one per benchmark
    assert [table_stem(b) for b in benchmarks.BENCHMARKS] == [
        "table2_multiblimp", "table3_belebele", "table4_hellaswag", "table5_xcsqa", "table6_flores"]
    # every language-table column a benchmark needs
    header = languages.TABLE.read_text().splitlines()[0].split("\t")
    assert set(benchmarks.BENCHMARKS) <= set(header)


def test_each_method_keeps_mergekits_default_normalisation():
    """The authors kept mergekit's defaults (gen_configs.sh sets no `normalize`): on for linear
    and TIES, off for DARE-TIES and task arithmetic. The registry must say what mergekit does."""
    from mergekit.merge_methods.registry import get

    for name, entry in registry.MERGE_METHODS.items():
        default = next(p.default for p in get(entry.mergekit).spec.parameters if p.name == "normalize")
        assert entry.normalize == default, name


def test_branch_family_ids_round_trip():
    """A branch family's experts and merges carry the branch step as a suffix; the paper's
    (branched at 0) have none; only experts and merges can be branched."""
    for text, branch in (("mono-deu-br120", 120), ("linear_wm-all10-br60", 60), ("ties-deu+nld-br5", 5),
                         ("linear-succ3-br120", 120), ("mono-deu", 0), ("linear-all10", 0)):
        mid = modelid.parse(text)
        assert mid.branch == branch and modelid.format_id(mid) == text
    assert modelid.parse("mono-deu-br120").lang == "deu"
    assert modelid.parse("ties-deu+nld-br5").pair == ("deu", "nld")
    assert modelid.mono("deu", 120) == "mono-deu-br120" and modelid.merged_all("linear", 10, 60) == "linear-all10-br60"
    assert modelid.display("linear-all10-br60") == "Merged10 linear, branched at 60"
    for bad in ("mixed10-br5", "init-br3", "ext-x-br3"):
        with pytest.raises(ValueError, match="only experts and their merges"):
            modelid.parse(bad)
    with pytest.raises(ValueError, match="not a model id"):
        modelid.parse("mono-deu-br0")  # branched at 0 is the paper's expert: no suffix
    assert re.fullmatch(modelid.merged_pattern(), "linear_wm-deu+nld-br120")
    assert not re.fullmatch(modelid.merged_pattern(), "mono-deu-br120")


def test_method_names_fit_the_id_grammar():
    for name in registry.MERGE_METHODS:
        assert modelid.parse(modelid.merged_all(name, 10)).method == name
    with pytest.raises(ValueError, match="lower-case letters and underscores"):
        registry.register_method(registry.MergeMethod("dare-x", "x", "dare_linear", True, True, True, ""))
    with pytest.raises(ValueError, match="registered already"):
        registry.register_method(registry.MERGE_METHODS["ties"])


@pytest.fixture
def dare_linear(monkeypatch):
    """A merge method added through the registry alone: mergekit's DARE with linear weights."""
    monkeypatch.setattr(registry, "MERGE_METHODS", dict(registry.MERGE_METHODS))
    registry.register_method(registry.MergeMethod(
        "dare_linear", "DARE-linear", "dare_linear", task_vectors=True, sparsified=True, normalize=True,
        reference="Yu et al. 2024"))
    return "dare_linear"


def test_a_method_added_through_the_registry_runs_everywhere(dare_linear, models, tiny_config, tmp_path):
    cfg = copy.deepcopy(tiny_config)
    cfg["merge"]["all"]["methods"] = ["linear", dare_linear]
    cfg["merge"]["branch"]["methods"] = [dare_linear]
    config.validate(cfg)  # the schema's enum follows the registry
    study = Study.from_config(cfg)
    assert ("dare_linear-all10", study.final) in study.merges
    assert ("dare_linear-all10-br120", study.final) in study.merges  # a branch family's too
    assert ("Merged10 DARE-linear", "dare_linear-all10") in study.table_rows
    assert study.eval_plan[("dare_linear-all10", study.final)] == study.eval_plan[("linear-all10", study.final)]
    # mergekit runs it: at density 1 nothing is dropped, so it is base + mean task vector = the mean
    init, members = models
    rec = merge.run(dare_linear, members, tmp_path / "dl", base=init, density=1.0, seed=0)
    assert rec["base"] == str(init) and rec["density"] == 1.0
    got, ins = load_file(tmp_path / "dl" / WEIGHTS), [load_file(m / WEIGHTS) for m in members]
    for k in got:
        assert torch.allclose(got[k], sum(w[k] for w in ins) / len(ins), atol=1e-6), k
