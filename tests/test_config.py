"""Invalid configs are rejected before any job runs, with a message naming the key."""

import copy
import subprocess
import sys

import pytest
import yaml

from mergelimits import config
from mergelimits.config import ConfigError

from .conftest import ROOT


def test_shipped_configs_are_valid(tiny_config, paper_config):
    config.validate(tiny_config)
    config.validate(paper_config)


def _overlaid(*names: str) -> dict:
    """Config files merged as Snakemake merges several --configfile: later keys win, nested
    mappings merge key by key."""
    def update(base, new):
        for k, v in new.items():
            base[k] = update(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
        return base

    out: dict = {}
    for name in names:
        update(out, yaml.safe_load((ROOT / "config" / name).read_text()))
    return out


@pytest.mark.parametrize("names", [
    ("config.yaml", "branch-sweep.yaml"),
    ("paper.yaml", "paper-smoke.yaml"),
    ("paper.yaml", "paper-published.yaml"),  # a published init and Mixed, each with its source
    ("paper.yaml", "paper-branch.yaml"),
    ("paper.yaml", "paper-branch.yaml", "paper-smoke.yaml", "paper-smoke-branch.yaml"),
], ids="+".join)
def test_every_shipped_overlay_is_valid(names):
    config.validate(_overlaid(*names))


def test_optional_blocks_may_be_left_out(cfg):
    """No baselines, no branch family, no grid per method: defaults, never errors."""
    for key in ("baselines",):
        cfg.pop(key, None)
    del cfg["pretrain"]["branch"], cfg["merge"]["branch"], cfg["merge"]["all"]["steps"]
    config.validate(cfg)


def test_explicit_pairs_of_configured_languages_are_valid(cfg):
    cfg["merge"]["pairs"] = ["deu+nld", "fra+ita", "nld+eng"]
    cfg["merge"]["branch"]["pairs"] = ["deu+nld", "fra+ita", "spa+tur"]  # three: a Table 8 per family
    config.validate(cfg)


def test_one_data_parallel_rank_is_valid(paper_config):
    cfg = copy.deepcopy(paper_config)
    cfg["pretrain"]["megatron"].update(nodes=1, gpus_per_node=1, global_batch=8, micro_batch=4)
    config.validate(cfg)


def _set(cfg, dotted, value):
    *parents, last = dotted.split(".")
    node = cfg
    for p in parents:
        node = node.setdefault(p, {})
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


DELETE = object()

BAD = [
    # (what is wrong, key to change, value, text the message must contain)
    ("unknown language", "languages", ["deu", "xyz"], "languages[1]: unknown language 'xyz'"),
    ("language listed twice", "languages", ["deu", "nld", "deu"], "languages[2]: 'deu' listed twice"),
    ("a single language", "languages", ["deu"], "languages:"),
    ("unknown benchmark", "benchmarks", ["multiblimp", "mmlu"], "benchmarks[1]: unknown benchmark 'mmlu'"),
    ("benchmark twice", "benchmarks", ["flores", "flores"], "benchmarks[1]: 'flores' listed twice"),
    ("unknown evaluation backend", "evaluate.backend", "onnx", "evaluate.backend:"),
    ("non-positive size", "data.generated.pretrain_docs", 0, "data.generated.pretrain_docs: 0 is less than"),
    ("negative item count", "data.generated.items.multiblimp", -5, "data.generated.items.multiblimp"),
    ("size not an integer", "data.generated.flores.devtest", "many", "data.generated.flores.devtest"),
    ("pair names one language twice", "merge.pairs", ["deu+deu"], "merge.pairs[0]: 'deu+deu' names one language twice"),
    ("pair with an unconfigured language", "merge.pairs", ["deu+xyz"], "merge.pairs[0]: 'xyz' is not one of"),
    ("fewer than three pairs for Table 8", "merge.pairs", ["deu+nld", "eng+fra"],
     "merge.pairs: Table 8 correlates Δ with similarity over the bilingual pairs and needs at least three; 2"),
    ("pair repeated in the other order", "merge.pairs", ["deu+nld", "nld+deu", "fra+ita"],
     "merge.pairs[1]: 'nld+deu' repeats merge.pairs[0]"),
    ("malformed pair", "merge.pairs", ["deu-nld"], "merge.pairs[0]"),
    ("per-benchmark cap without one benchmark", "evaluate.max_items", {"multiblimp": None, "belebele": 10},
     "evaluate.max_items.hellaswag: required key missing"),
    ("per-benchmark cap of an unknown benchmark", "evaluate.max_items",
     {"multiblimp": None, "belebele": 1, "hellaswag": 1, "xcsqa": 1, "flores": 1, "mmlu": 1},
     "evaluate.max_items.mmlu: unknown key"),
    ("Table 1 leaving out an unconfigured language", "tables.table1_languages",
     {"experts": {"leave_out": ["ara", "fin"], "benchmarks": ["belebele"]}},
     "tables.table1_languages.experts.leave_out[1]: 'fin' is not one of the configured languages"),
    ("Table 1 languages neither all nor per row", "tables.table1_languages", "authors", "tables.table1_languages"),
    ("Table 7 decoded without targets", "evaluate.flores_examples", {"n": 5, "decoding": {"num_beams": 4,
                                                                                      "max_new_tokens": 9}},
     "evaluate.flores_examples.targets: required with evaluate.flores_examples.decoding"),
    ("Table 7 from the evaluation without a language", "evaluate.flores_examples", {"n": 5},
     "evaluate.flores_examples.lang: required without evaluate.flores_examples.decoding"),
    ("unknown top-level key", "epochs", 3, "epochs: unknown key"),
    ("unknown nested key", "data.generated.items.mmlu", 10, "data.generated.items.mmlu: unknown key"),
    ("missing required key", "seeds.data", DELETE, "seeds.data: required key missing"),
    ("unknown data source", "data.source", "web", "data.source:"),
    ("density above one", "merge.density", 1.5, "merge.density: 1.5 is greater than the maximum of 1"),
    ("density zero", "merge.density", 0, "merge.density: 0 is less than or equal to the minimum of 0"),
    ("FLORES source language missing", "languages", ["deu", "nld"], "languages: FLORES translates eng→deu, so 'eng' must"),
    ("English FLORES without French", "languages", ["eng", "deu", "nld"],
     "languages: FLORES translates fra→eng, so 'fra' must"),
    ("generated data without its sizes", "data.generated", DELETE,
     "data.generated: required when data.source is 'generated'"),
    ("trained tokenizer without a vocabulary size", "data.tokenizer.vocab_size", DELETE,
     "data.tokenizer.vocab_size: required when data.tokenizer.source is 'train'"),
    ("fetched tokenizer without its source", "data.tokenizer.source", "hub",
     "data.hub.tokenizer: required when data.tokenizer.source is 'hub'"),
    ("tiny vocabulary", "data.tokenizer.vocab_size", 10, "data.tokenizer.vocab_size"),
    ("hub source without its entries", "data.source", "hub", "data.hub.multiblimp: required"),
    ("checkpoints out of order", "pretrain.checkpoints", [120, 60, 240], "pretrain.checkpoints[1]: 60 does not increase on 120"),
    ("last checkpoint not the final step", "pretrain.checkpoints", [60, 120], "pretrain.checkpoints[1]: the last checkpoint"),
    ("heads do not divide hidden", "pretrain.arch.heads", 3, "pretrain.arch.heads: 3 does not divide pretrain.arch.hidden 64"),
    ("kv heads do not divide heads", "pretrain.arch.kv_heads", 3,
     "pretrain.arch.kv_heads: 3 does not divide pretrain.arch.heads 4"),
    ("Merged-N at a step never saved", "merge.all.steps", [60, 100],
     "merge.all.steps[1]: 100 is not one of pretrain.checkpoints"),
    ("per-method grid at a step never saved", "merge.all.steps", {"linear": "all", "ties": [100]},
     "merge.all.steps.ties[0]: 100 is not one of pretrain.checkpoints"),
    ("per-method grid of an unknown method", "merge.all.steps", {"tie": "final"},
     "merge.all.steps.tie: 'tie' is not a merge method"),
    ("unknown step keyword", "merge.all.steps", "last", "merge.all.steps"),
    ("order that is not a permutation", "merge.successive.order", ["eng", "fra", "eng"],
     "merge.successive.order: must list every configured language once"),
    ("unknown merge dtype", "merge.dtype", "int8", "merge.dtype"),
    ("checkpoint repeated", "pretrain.checkpoints", [120, 120, 240], "pretrain.checkpoints[1]: 120 does not increase"),
    ("torch engine without a batch size", "pretrain.batch_size", DELETE,
     "pretrain.batch_size: required when pretrain.engine is 'torch'"),
    ("torch engine without a learning rate", "pretrain.lr", DELETE, "pretrain.lr: required when pretrain.engine is 'torch'"),
    ("megatron engine without its recipe", "pretrain.engine", "megatron",
     "pretrain.megatron: required when pretrain.engine is 'megatron'"),
    ("published init without its source", "pretrain.init", "hub",
     "pretrain.init_hub: required when pretrain.init is 'hub'"),
    ("published merges at a step never saved", "merge.published",
     {"repo": "a/merged", "revision": "checkpoint_{step:07d}", "method": "linear", "steps": [60, 100]},
     "merge.published.steps[1]: 100 is not one of pretrain.checkpoints"),
    ("published merges on a branch without the step", "merge.published",
     {"repo": "a/merged", "revision": "main", "method": "linear", "steps": "all"}, "merge.published.revision"),
    ("branch from a step never saved", "pretrain.branch.steps", [100],
     "pretrain.branch.steps[0]: 100 is not one of pretrain.checkpoints"),
    ("branch at the final step", "pretrain.branch.steps", [120, 240],
     "pretrain.branch.steps[1]: 240 is the final step"),
    ("branch merges without a branch", "pretrain.branch", DELETE, "merge.branch: set, but pretrain.branch.steps"),
    ("branch without its merges", "merge.branch", DELETE, "merge.branch: required when pretrain.branch.steps"),
    ("branch method not merged at 0", "merge.branch.methods", ["linear", "task_arithmetic"],
     "merge.branch.methods[1]: 'task_arithmetic' is not merged at the final step"),
    ("branch pair with an unconfigured language", "merge.branch.pairs", ["deu+eng", "deu+fra", "deu+xyz"],
     "merge.branch.pairs[2]: 'deu+xyz' is not a pair"),
    ("branch pair of one language", "merge.branch.pairs", ["deu+deu", "deu+fra", "eng+fra"],
     "merge.branch.pairs[0]: 'deu+deu' is not a pair of two configured languages"),
    ("branch pair with an unconfigured first language", "merge.branch.pairs", ["xyz+deu", "deu+fra", "eng+fra"],
     "merge.branch.pairs[0]: 'xyz+deu' is not a pair"),
    ("two branch pairs for a Table 8", "merge.branch.pairs", ["deu+eng", "deu+fra"],
     "merge.branch.pairs: a branch family's Table 8 needs at least three pairs; 2"),
    ("branch pairs too few for its Table 8", "merge.branch.pairs", ["deu+eng"],
     "merge.branch.pairs: a branch family's Table 8 needs at least three pairs; 1"),
    ("branch from a published Mixed", "pretrain.mixed", "hub", "pretrain.branch: experts branch from the state"),
    ("baseline name with a hyphen", "baselines", [{"name": "gemma-2", "label": "G", "repo": "a/b", "revision": "main",
                                                   "tokens_b": None}], "baselines[0].name"),
    ("baseline label twice", "baselines", [{"name": n, "label": "G", "repo": "a/b", "revision": "main", "tokens_b": 1}
                                           for n in ("g", "h")], "baselines[].label[1]: 'G' listed twice"),
    ("baseline listed twice", "baselines", [{"name": "g", "label": "G", "repo": "a/b", "revision": "main",
                                             "tokens_b": 1}] * 2, "baselines[].name[1]: 'g' listed twice"),
]


def test_a_config_that_is_no_mapping_is_refused_at_the_top_level():
    with pytest.raises(ConfigError, match=r"\(top level\): \['languages'\] is not of type 'object'"):
        config.validate(["languages"])


def test_paper_pretraining_needs_its_corpus_source(paper_config):
    cfg = copy.deepcopy(paper_config)
    del cfg["data"]["hub"]["corpus"]
    with pytest.raises(ConfigError, match=r"data.hub.corpus: required to pre-train on fetched text"):
        config.validate(cfg)


@pytest.mark.parametrize("split", ["tp", "pp"])
def test_model_parallel_sizes_divide_the_data_parallel_ranks(paper_config, split):
    """128 GCDs in tensor or pipeline groups of 2 leave 64 data-parallel ranks: a global batch
    of 768 (= 4 × 64 × 3) fills them, though it would not fill 128."""
    cfg = copy.deepcopy(paper_config)
    cfg["pretrain"]["megatron"].update(global_batch=768, **{split: 2})
    config.validate(cfg)
    cfg["pretrain"]["megatron"][split] = 1
    with pytest.raises(ConfigError, match=r"768 is not a multiple of micro_batch 4 × 128 data-parallel ranks"):
        config.validate(cfg)


def test_megatron_global_batch_must_fill_every_rank(paper_config):
    cfg = copy.deepcopy(paper_config)
    cfg["pretrain"]["megatron"]["global_batch"] = 1000  # not a multiple of 4 × 128 data-parallel ranks
    with pytest.raises(ConfigError, match=r"pretrain.megatron.global_batch: 1000 is not a multiple of micro_batch 4 "
                                          r"× 128 data-parallel ranks"):
        config.validate(cfg)
    cfg["pretrain"]["megatron"]["global_batch"] = 1536
    config.validate(cfg)


@pytest.mark.parametrize("what,key,value,message", BAD, ids=[b[0] for b in BAD])
def test_bad_config_names_the_key(cfg, what, key, value, message):
    _set(cfg, key, value)
    with pytest.raises(ConfigError) as err:
        config.validate(cfg)
    # one line of the report starts with the message: the key first, as written in the config
    lines = [line.strip() for line in str(err.value).splitlines()[1:]]
    assert any(line.startswith(message) for line in lines), lines


def test_every_error_is_reported_at_once(cfg):
    cfg["languages"] = ["deu", "xyz", "deu"]
    cfg["benchmarks"] = ["mmlu"]
    with pytest.raises(ConfigError) as err:
        config.validate(cfg)
    text = str(err.value)
    assert "languages[1]" in text and "languages[2]" in text and "benchmarks[0]" in text


def test_every_schema_error_is_reported_once_in_key_order(cfg):
    """Unknown keys at two depths, a missing key and a bad value: each one line, none for the
    valid keys beside them, in the order of the keys' paths."""
    cfg["epochs"] = 3
    del cfg["data"]["generated"]["sentences_per_doc"]
    cfg["data"]["generated"]["items"]["mmlu"] = 10
    del cfg["seeds"]["data"]
    cfg["merge"]["density"] = 2
    with pytest.raises(ConfigError) as err:
        config.validate(cfg)
    assert [line.strip() for line in str(err.value).splitlines()[1:]] == [
        "epochs: unknown key", "data.generated.sentences_per_doc: required key missing",
        "data.generated.items.mmlu: unknown key", "merge.density: 2 is greater than the maximum of 1",
        "seeds.data: required key missing"]


def test_snakemake_rejects_bad_config_before_any_job(cfg, tmp_path):
    cfg["languages"] = ["deu", "klingon"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", str(bad), "--directory", str(tmp_path / "work"),
         "--snakefile", str(ROOT / "Snakefile")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode != 0
    assert "languages[1]: unknown language 'klingon'" in proc.stdout + proc.stderr
    assert not (tmp_path / "work" / "results").exists()


PAPER_BAD = [
    ("a trained tokenizer on fetched text", {"data.tokenizer.source": "train", "data.tokenizer.vocab_size": 1000},
     None, "data.tokenizer.source: 'train' needs generated corpora"),
    ("HPLT weights in an unknown format", "pretrain.hplt.weights", "gguf", "pretrain.hplt.weights:"),
    ("HPLT experts without their repositories", "pretrain.hplt", DELETE,
     "pretrain.hplt: required when pretrain.monolingual is 'hplt'"),
    ("HPLT experts without the init check", "pretrain.verify_init", DELETE,
     "pretrain.verify_init: required when pretrain.monolingual is 'hplt'"),
    ("init check on an unconfigured language", "pretrain.verify_init.lang", "xyz",
     "pretrain.verify_init.lang: 'xyz' is not one of the configured languages"),
    ("init check at a step never saved", "pretrain.verify_init.step", 999,
     "pretrain.verify_init.step: 999 is not one of pretrain.checkpoints"),
    ("published Mixed without its repository", {"pretrain.mixed": "hub", "pretrain.mixed_hub": DELETE},
     None, "pretrain.mixed_hub: required when pretrain.mixed is 'hub'"),
]


@pytest.mark.parametrize("what,key,value,message", PAPER_BAD, ids=[b[0] for b in PAPER_BAD])
def test_bad_paper_config_names_the_key(paper_config, what, key, value, message):
    """The rules that only the paper config's sources exercise (HPLT experts, published models)."""
    cfg = copy.deepcopy(paper_config)
    for k, v in (key if isinstance(key, dict) else {key: value}).items():
        _set(cfg, k, v)
    with pytest.raises(ConfigError) as err:
        config.validate(cfg)
    assert any(line.strip().startswith(message) for line in str(err.value).splitlines()), str(err.value)


def test_table8_needs_three_pairs_and_three_are_enough(cfg):
    two = copy.deepcopy(cfg) | {"languages": ["eng", "fra"]}
    two["merge"]["successive"]["order"] = "seeded"
    with pytest.raises(ConfigError, match=r"needs at least three; 1 configured \(three languages give three\)"):
        config.validate(two)
    three = copy.deepcopy(cfg) | {"languages": ["deu", "eng", "fra"]}
    config.validate(three)  # the three pairs of three languages: enough
    listed = copy.deepcopy(cfg)
    listed["merge"]["pairs"] = ["deu+nld", "eng+fra"]
    with pytest.raises(ConfigError) as err:
        config.validate(listed)
    assert str(err.value).rstrip().endswith("needs at least three; 2 configured")  # no hint about languages


def test_a_bad_successive_order_names_what_is_missing_and_what_is_extra(cfg):
    cfg["languages"] = ["deu", "eng", "fra"]
    cfg["merge"]["successive"]["order"] = ["eng", "fra", "eng", "xyz"]
    with pytest.raises(ConfigError, match=r"missing \['deu'\], not configured or repeated \['eng', 'xyz'\]"):
        config.validate(cfg)
    cfg["merge"]["successive"]["order"] = ["eng", "fra"]
    with pytest.raises(ConfigError, match=r"missing \['deu'\], not configured or repeated none"):
        config.validate(cfg)
