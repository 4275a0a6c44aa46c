# Validation, wildcard constraints and input functions shared by every stage.
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from mergelimits import analysis as analysis_jobs
from mergelimits import cluster
from mergelimits import config as study_config
from mergelimits import evaluate as evaluation
from mergelimits import languages as langtable
from mergelimits import merge as merging
from mergelimits import modelid, runlog
from mergelimits.modelid import mono
from mergelimits.datasets import bench_files

# Rejects an invalid config before the DAG is built, naming every offending key.
study_config.validate(config)

# The repository, for inputs that ship with it (runs may use another --directory).
REPO = Path(workflow.basedir)
# Pathvars expand in input/output/log paths only: params that name a folder use this.
RESULTS = config.get("pathvars", {}).get("results", "results")
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


FINAL = STEPS[-1]

# Merges: (model id, step) of every merged model the config asks for.
_M = config["merge"]
SUCCESSIVE_ORDER = merging.successive_order(LANGS, config["seeds"]["successive"])
_ALL_STEPS = STEPS if _M["all"].get("steps", "all") == "all" else _M["all"]["steps"]
MERGES = (
    [
        (modelid.merged_all(m, len(LANGS)), s)
        for m in _M["all"]["methods"]
        for s in _ALL_STEPS
    ]
    + [
        (modelid.merged_pair(m, a, b), FINAL)
        for m in _M["pair_methods"]
        for a, b in study_config.pairs(config)
    ]
    + [
        (modelid.merged_succ(m, k), FINAL)
        for m in _M["successive"]["methods"]
        for k in range(2, len(LANGS) + 1)
    ]
)
MERGED_RE = (
    r"(?:" + "|".join(modelid.METHODS) + r")-(?:all\d+|[a-z]{3}\+[a-z]{3}|succ\d+)"
)


# Evaluation: (model, step) -> [(benchmark, language)], and each task's local files.
EVAL_PLAN = evaluation.plan(
    LANGS, BENCHES, FINAL, MIXED, MERGES, {lang: mono(lang) for lang in LANGS}
)
_SPLITS = {
    "multiblimp": "test",
    "belebele": "test",
    "hellaswag": "validation",
    "xcsqa": "validation",
}


def _task_files(bench, lang):
    if bench == "flores":
        return {
            s: f"{RESULTS}/eval/flores_pairs/lang~{lang}/{s}.jsonl"
            for s in ("dev", "devtest")
        }
    (name,) = bench_files(bench)
    return {_SPLITS[bench]: f"{RESULTS}/data/benchmarks/{bench}/lang~{lang}/{name}"}


EVAL_TASK_FILES = {
    (b, lang): _task_files(b, lang)
    for b, lang in sorted({t for tasks in EVAL_PLAN.values() for t in tasks})
}


def flores_src(lang):
    return evaluation.flores_source(lang)


_ALL_LABEL = {
    "linear": "linear",
    "ties": "TIES",
    "dare_ties": "DARE-TIES",
    "task_arithmetic": "TA",
}
TABLE_ROWS = [("Monolingual experts", "mono"), (MIXED.capitalize(), MIXED)] + [
    (f"Merged{len(LANGS)} {_ALL_LABEL[m]}", modelid.merged_all(m, len(LANGS)))
    for m in config["merge"]["all"]["methods"]
]
_TABLE_NO = {"multiblimp": 2, "belebele": 3, "hellaswag": 4, "xcsqa": 5, "flores": 6}
TABLE_STEMS = (
    ["table1"]
    + [f"table{_TABLE_NO[b]}_{b}" for b in BENCHES]
    + (["table7_flores_examples"] if "flores" in BENCHES else [])
)
TABLES = [
    f"<results>/tables/{stem}.{ext}"
    for stem in TABLE_STEMS
    for ext in ("csv", "md", "tex")
]


FIGURE_NAMES = ["figure1", "figure2", "figure3", "cka_heatmap"]
FIGURES = [
    f"<results>/figures/{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "pdf")
]


def in_report(path):
    """Tables' CSVs go into `snakemake --report`, captioned by workflow/report/tables.rst."""
    if path.endswith(".csv"):
        return report(path, caption="../report/tables.rst", category="Tables")
    return path


def merge_members(model):
    return merging.members(model, LANGS, config["seeds"]["successive"])


def merge_record(model, step):
    return f"<results>/models/{model}/step~{step}/merge.json"


def maybe_temp(path):
    """Merged weights are deleted once consumed, unless merge.keep_weights."""
    return path if config["merge"]["keep_weights"] else temp(path)


def alternatives(values):
    """A wildcard regex matching exactly these values (longest first)."""
    return "|".join(sorted(map(re.escape, values), key=len, reverse=True))


wildcard_constraints:
    lang=alternatives(LANGS),
    bench=alternatives(BENCHES),
    corpus=alternatives(CORPORA),
    model=f'{alternatives(["init", *MODELS_PRETRAINED])}|{MERGED_RE}',
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


# A Slurm profile with no Slurm behind it: one line before any job is submitted, instead
# of the plugin's traceback per job. onstart runs only in the main process of real runs.
onstart:
    if workflow.executor_plugin.name == "slurm" and (
        problem := cluster.slurm_problem()
    ):
        raise WorkflowError(problem)


# Why Slurm ended each failed job, read from its Slurm log, at the end of the run.
onerror:
    if workflow.executor_plugin.name == "slurm":
        for path in [log] if isinstance(log, str) else log:
            for line in cluster.slurm_failures(Path(path).read_text()):
                print(line, file=sys.stderr)
