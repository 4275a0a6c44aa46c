# Validation, the study's design, wildcard constraints, paths and input functions shared
# by every stage. What the study contains is decided in mergelimits.study (tested), not here.
import os
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from mergelimits import config as study_config
from mergelimits import languages as langtable
from mergelimits import cost, modelid, provenance, registry, slurm, tables
from mergelimits.benchfiles import bench_files
from mergelimits.evaluate import TEMPLATES, flores_source, task_name
from mergelimits.study import Study
from mergelimits.synthetic.grammar import ITEM_DESIGN

# Rejects an invalid config before the DAG is built, naming every offending key.
study_config.validate(config)
STUDY = Study.from_config(config)

# The recipe every pre-trained model shares, as its jobs' params: adding a branch family
# adds models and changes none, so no finished training reruns for it.
PRETRAIN = {k: v for k, v in config["pretrain"].items() if k != "branch"}
# Pathvars expand in input/output/log paths only: params that name a folder use this.
RESULTS = config.get("pathvars", {}).get("results", "results")
GENERATED = config["data"]["source"] == "generated"
# The GPU a model-loading job asks for: one with megatron-core (the paper config), none on a CPU.
GPU = 1 if config["pretrain"]["engine"] == "megatron" else 0
# The shared initialisation (init_model builds it, or fetch_init fetches a published one).
INIT = "<results>/models/init/model.safetensors"
INIT_CONFIG = "<results>/models/init/config.json"
# Any merged model id of a registered method (the one grammar, mergelimits.modelid).
MERGED_RE = modelid.merged_pattern()


def task_files(bench, lang):
    """An evaluation task's local data files: {split: path} (a control: its benchmark's)."""
    bench, _ = registry.split_variant(bench)
    if bench == "flores":
        return {
            s: f"{RESULTS}/eval/flores_pairs/lang~{lang}/{s}.jsonl"
            for s in ("dev", "devtest")
        }
    (name,) = bench_files(bench)
    split = registry.benchmark(bench).split
    return {split: f"{RESULTS}/data/benchmarks/{bench}/lang~{lang}/{name}"}


# Languages whose FLORES direction some evaluation translates.
FLORES_LANGS = [lang for b, lang in STUDY.tasks if b == "flores"]


def task_yaml(bench, lang):
    return f"<results>/eval/tasks/{task_name(bench, lang)}.yaml"


TABLES = [
    f"<results>/tables/{stem}.{ext}"
    for stem in STUDY.table_stems
    for ext in tables.FORMATS
]
TABLE8 = [f"<results>/tables/table8.{ext}" for ext in tables.FORMATS]
# Each table's caption (tables.captions): written into its files and shown in the report.
TABLE_CAPTIONS = tables.captions(
    config["study"],
    STUDY.benchmarks,
    STUDY.final,
    config["evaluate"]["bootstrap"],
    config["seeds"]["bootstrap"],
    config["merge"]["pair_methods"][0],
    len(STUDY.pairs),
    config["evaluate"]["flores_examples"]["lang"],
    STUDY.branch_steps,
    len(STUDY.branch_pairs),
)
# Beyond the paper: the branch families' Figure 4, branch table and Tables 8.
FIGURE4_TITLE = (
    "Figure 4 — experts branched from Mixed, merged with and without weight matching"
)
BRANCH_TABLE = [
    f"<results>/tables/{tables.BRANCH_TABLE}.{ext}" for ext in tables.FORMATS
]


def branch_cka(branch):
    """A family's CKA table: the paper's experts' own, or the branched family's."""
    if branch == 0:
        return "<results>/analysis/cka.tsv"
    return f"<results>/analysis/branch~{branch}/cka.tsv"


BRANCH_OUTPUTS = (
    [
        *(f"<results>/figures/figure4.{ext}" for ext in ("png", "pdf")),
        *BRANCH_TABLE,
        *(
            f"<results>/tables/table8_br{b}.{ext}"
            for b in STUDY.branch_steps
            for ext in tables.FORMATS
            if STUDY.branch_pairs
        ),
    ]
    if STUDY.branch_steps
    else []
)
# The figures' names in the report (its labels, which its search finds).
FIGURE_TITLES = {
    "figure1": "Figure 1 — MultiBLiMP across training, Mixed vs Merged",
    "figure2": "Figure 2 — successive merges",
    "figure3": "Figure 3 — Δ vs CKA",
    "cka_heatmap": "CKA heat map — similarity of the experts",
}
FIGURE_NAMES = list(FIGURE_TITLES)
FIGURES = [
    f"<results>/figures/{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "pdf")
]


def in_report(path):
    """A table's HTML is shown inline in `snakemake --report`, its CSV is there to download;
    both under the table's own caption (workflow/report/tables/<stem>.rst renders it from
    the rule's params) and labelled with its name, which the report's search finds."""
    stem, ext = Path(path).stem, Path(path).suffix[1:]
    if ext not in ("html", "csv"):
        return path
    # a branch family's Table 8 ({branch} still a wildcard): one caption file for all
    caption = "table8_branch" if stem.startswith("table8_br") else stem
    return report(
        path,
        caption=f"../report/tables/{caption}.rst",
        category="Tables" if ext == "html" else "Tables (CSV, unrounded)",
        labels={
            "table": (
                "Table 8, branched at {branch} — Δ vs similarity"
                if caption != stem
                else tables.caption_name(TABLE_CAPTIONS[stem])
            ),
            "format": ext.upper(),
        },
    )


BASELINES = {modelid.external(b["name"]): b for b in config.get("baselines", [])}


def sized_by(model):
    """The model whose checkpoint gives a table row's size: merges and the experts' row
    have the first expert's shape."""
    if model in STUDY.pretrained or model in BASELINES:
        return model
    return STUDY.mono[0]


SIZED_MODELS = sorted({sized_by(model) for _, model in STUDY.table_rows})


def merge_members(model, step):
    """The checkpoints a merged model merges (its branch family's experts) and its base."""
    base, base_step = STUDY.merge_base(model)
    members = [checkpoint_path(m, step) for m in STUDY.member_models(model)]
    return members, INIT if base == "init" else checkpoint_path(base, base_step)


def merge_inputs(models):
    """A merge_evaluate job's inputs: per merged model (model, step) i, its members
    (members_i) and base (base_i); the task YAMLs of them all; with published experts, the
    check that the init is theirs (no merge before it)."""
    out = {}
    for i, (model, step) in enumerate(models):
        out[f"members_{i}"], out[f"base_{i}"] = merge_members(model, step)
    out["tasks"] = sorted(
        {task_yaml(b, lang) for m, s in models for b, lang in plan_tasks(m, s)}
    )
    if not STUDY.train_monolingual:
        out["verified"] = "<results>/models/init/verify_init.tsv"
    return out


def merge_outputs(models):
    """A merge_evaluate job's outputs, per merged model i: its config, merge record, scores
    and samples, and its weights where merge.keep_weights keeps them (otherwise the job
    deletes them once evaluated). `models` may hold wildcards ("{model}", "{step}")."""
    out = {}
    for i, (model, step) in enumerate(models):
        d = f"<results>/models/{model}/step~{step}"
        if config["merge"]["keep_weights"]:
            out[f"weights_{i}"] = checkpoint_path(model, step)
        out[f"config_{i}"] = f"{d}/config.json"
        out[f"record_{i}"] = merge_record(model, step)
        out[f"scores_{i}"] = f"<results>/eval/{model}/step~{step}/scores.tsv"
        out[f"samples_{i}"] = f"<results>/eval/{model}/step~{step}/samples.jsonl"
    return out


def merge_params(models):
    """Per merged model: id, step, method and lm-eval task names (merge_evaluate.py)."""
    return [
        {
            "model": m,
            "step": int(s),
            "method": modelid.parse(m).method,
            "tasks": [task_name(b, lang) for b, lang in plan_tasks(m, s)],
        }
        for m, s in models
    ]


# merge.per_job > 1: merged models grouped into jobs, a rule each (merge.smk).
MERGE_JOBS = STUDY.merge_jobs(config["merge"].get("per_job", 1))
# What every merge_evaluate job merges and evaluates with (its params besides the models).
MERGE_SETTINGS = dict(
    density=config["merge"]["density"],
    dtype=config["merge"]["dtype"],
    merge_seed=config["seeds"]["merge"],
    keep_weights=config["merge"]["keep_weights"],
    batch_size=config["evaluate"]["batch_size"],
    eval_seed=config["seeds"]["evaluate"],
    backend=config["evaluate"].get("backend", "hf"),
)


def merge_record(model, step):
    return f"<results>/models/{model}/step~{step}/merge.json"


def plan_tasks(model, step):
    """The (benchmark, language) tasks the eval plan gives a model at a step."""
    return STUDY.eval_plan[(model, int(step))]


def eval_task_names(wildcards):
    return [
        task_name(b, lang) for b, lang in plan_tasks(wildcards.model, wildcards.step)
    ]


def eval_task_yamls(wildcards):
    return [
        task_yaml(b, lang) for b, lang in plan_tasks(wildcards.model, wildcards.step)
    ]


def alternatives(values):
    """A wildcard regex matching exactly these values (longest first); none: matching
    nothing (an empty constraint would be no constraint at all)."""
    if not values:
        return "(?!)"
    return "|".join(sorted(map(re.escape, values), key=len, reverse=True))


wildcard_constraints:
    lang=alternatives(STUDY.languages),
    bench=alternatives(STUDY.benchmarks),
    corpus=alternatives(STUDY.corpora),
    model=f'{alternatives(["init", *STUDY.pretrained, *STUDY.branched, *BASELINES])}|{MERGED_RE}',
    step=r"\d+",
    split="test|validation|dev|devtest",
    ext="tsv|jsonl",


def model_corpora(model):
    """The monolingual corpora a model is trained on: its own (a branched expert: its
    language's), or all (Mixed)."""
    if model == STUDY.mixed:
        return STUDY.mono
    return [modelid.mono(modelid.mono_lang(model))]


def corpus_budget(corpus):
    """Tokens the Megatron runs index from one corpus: a model's steps × global batch ×
    sequence length, split evenly over its corpora (Mixed10: a tenth each)."""
    return max(
        expert_budget() // len(model_corpora(m))
        for m in STUDY.trained
        if corpus in model_corpora(m)
    )


def expert_budget():
    """Tokens of one whole run: what a branched expert's corpus is indexed for (it reads
    its samples from the branch step's position on: the data position is the step)."""
    pre = config["pretrain"]
    return pre["steps"] * pre["megatron"]["global_batch"] * pre["arch"]["seq_len"]


def corpus_index(model):
    """The indexed corpora a Megatron run reads: its own, or Mixed's share of each language;
    a branched expert's are indexed apart (megatron_index_expert), so that adding a branch
    never re-indexes, and so retrains, what Mixed read."""
    where = "expert/" if modelid.branch_of(model) else ""
    return [f"<results>/megatron/data/{where}{c}.idx" for c in model_corpora(model)]


def megatron_outputs(model):
    """The steps a Megatron run publishes: all checkpoints; a branched expert's final."""
    return [STUDY.final] if modelid.branch_of(model) else STUDY.steps


def megatron_tasks():
    meg = config["pretrain"].get("megatron", {})
    return meg.get("nodes", 1) * meg.get("gpus_per_node", 1)


def checkpoint_path(model, step):
    return f"<results>/models/{model}/step~{step}/model.safetensors"


def branch_state(step, model=STUDY.mixed):
    """Mixed's whole training state at a branch step, kept beside its checkpoint."""
    return f"<results>/models/{model}/step~{step}/train_state.pt"


def benchmark_paths(benches=STUDY.benchmarks, langs=STUDY.languages):
    """Every local benchmark file of `benches` × the languages each covers."""
    return [
        f"<results>/data/benchmarks/{bench}/lang~{lang}/{name}"
        for bench in benches
        for lang in langtable.available(bench, list(langs))
        for name in bench_files(bench)
    ]


def corpus_paths(corpora=STUDY.corpora):
    return [f"<results>/data/corpus/{corpus}/train.jsonl" for corpus in corpora]


TOKENIZER = "<results>/data/tokenizer/tokenizer_config.json"


# Every job's container environment (profiles/lumi: the venv on PATH, caches in /tmp), as
# SINGULARITYENV_<name>: set here, it reaches each job through sbatch's --export=ALL.
for name, value in config.get("container_env", {}).items():
    os.environ.setdefault(f"SINGULARITYENV_{name}", value)


def container_exec():
    """The image around one process, as Snakemake puts it around a rule's command
    (snakemake.deployment.singularity.shellcmd), for a rule whose launcher (srun) must stay
    outside it; empty without a container."""
    from snakemake.settings.types import DeploymentMethod

    if not CONTAINER or (
        DeploymentMethod.APPTAINER not in workflow.deployment_settings.deployment_method
    ):
        return ""
    args = workflow.deployment_settings.apptainer_args
    return f"$(command -v apptainer || command -v singularity) exec --home $PWD {args} {CONTAINER}"


# What a real run needs before its first job, each in one line: a Slurm that answers, the
# account to bill, the container binds, the image (onstart: only the main process of real runs).
onstart:
    if workflow.executor_plugin.name == "slurm" and (
        problem := slurm.slurm_problem()
        or slurm.account_problem(config.get("account_env"))
        or slurm.bindings_problem(config.get("required_binds"))
    ):
        raise WorkflowError(problem)
    if CONTAINER and (
        problem := slurm.container_problem(
            CONTAINER,
            config["container"],
            workflow.deployment_settings.apptainer_args,
        )
    ):
        raise WorkflowError(problem)
    if workflow.executor_plugin.name == "slurm" and (
        warning := slurm.hf_home_warning()
    ):
        print(warning, file=sys.stderr)


# Why Slurm ended each failed job, read from its Slurm log, at the end of the run.
onerror:
    if workflow.executor_plugin.name == "slurm":
        for path in [log] if isinstance(log, str) else log:
            for line in slurm.slurm_failures(Path(path).read_text()):
                print(line, file=sys.stderr)
