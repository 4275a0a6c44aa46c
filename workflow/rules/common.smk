# Validation, wildcard constraints and input functions shared by every stage.
import re

from mergelimits import config as study_config
from mergelimits import languages as langtable
from mergelimits.datasets import bench_files

# Rejects an invalid config before the DAG is built, naming every offending key.
study_config.validate(config)

LANGS = config["languages"]
BENCHES = config["benchmarks"]
GENERATED = config["data"]["source"] == "generated"
MIXED = f"mixed{len(LANGS)}"
CORPORA = [f"mono-{lang}" for lang in LANGS] + [MIXED]


STEPS = config["pretrain"]["checkpoints"]
MONO = [f"mono-{lang}" for lang in LANGS]
# Models trained by this workflow; the rest of MODELS_PRETRAINED is fetched (HPLT).
MODELS_TRAINED = (MONO if config["pretrain"]["monolingual"] == "train" else []) + [
    MIXED
]
MODELS_PRETRAINED = MONO + [MIXED]


def alternatives(values):
    """A wildcard regex matching exactly these values (longest first)."""
    return "|".join(sorted(map(re.escape, values), key=len, reverse=True))


wildcard_constraints:
    lang=alternatives(LANGS),
    bench=alternatives(BENCHES),
    corpus=alternatives(CORPORA),
    model=alternatives(["init", *MODELS_PRETRAINED]),
    step=r"\d+",
    split="test|validation|dev|devtest",
    ext="tsv|jsonl",


def model_corpora(model):
    """The monolingual corpora a model is trained on: its own, or all (Mixed)."""
    return MONO if model == MIXED else [model]


def megatron_tasks():
    meg = config["pretrain"].get("megatron", {})
    return meg.get("nodes", 1) * meg.get("gpus_per_node", 1)


def checkpoint_path(model, step):
    return f"<results>/models/{model}/step~{step}/model.safetensors"


def benchmark_paths(benches=BENCHES, langs=LANGS):
    """Every local benchmark file of `benches` × the languages each covers."""
    return [
        f"<results>/data/benchmarks/{bench}/lang~{lang}/{name}"
        for bench in benches
        for lang in langtable.available(bench, langs)
        for name in bench_files(bench)
    ]


def corpus_paths(corpora=CORPORA):
    return [f"<results>/data/corpus/{corpus}/train.jsonl" for corpus in corpora]


TOKENIZER = "<results>/data/tokenizer/tokenizer_config.json"
