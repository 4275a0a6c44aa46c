# Validation, the study's design, wildcard constraints, paths and input functions shared
# by every stage. What the study contains is decided in mergelimits.study (tested), not here.
import os
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from mergelimits import config as study_config
from mergelimits import languages as langtable
from mergelimits import benchmarks, captions, cost, modelid, provenance, slurm
from mergelimits.benchfiles import bench_files
from mergelimits.benchmarks import task_name
from mergelimits.study import Study
from mergelimits.synthetic.grammar import ITEM_DESIGN

# Rejects an invalid config before the DAG is built, naming every offending key.
study_config.validate(config)
# The schema's defaults, filled in once: the rules index every key they read.
study_config.fill_defaults(config)
STUDY = Study.from_config(config)

# Pathvars expand in input/output/log paths only: params that name a folder use this.
RESULTS = config.get("pathvars", {}).get("results", "results")
# The GPU a model-loading job asks for: one with megatron-core (the paper config), none on a CPU.
GPU = 1 if config["pretrain"]["engine"] == "megatron" else 0
# The shared initialisation (init_model builds it, or fetch_init fetches a published one).
INIT = "<results>/models/init/model.safetensors"
INIT_CONFIG = "<results>/models/init/config.json"
TOKENIZER = "<results>/data/tokenizer/tokenizer_config.json"
# Any merged model id of a registered method (the one grammar, mergelimits.modelid).
MERGED_RE = modelid.merged_pattern()
BASELINES = {modelid.external(b["name"]): b for b in config["baselines"]}


def checkpoint_path(model, step):
    return f"<results>/models/{model}/step~{step}/model.safetensors"


def task_yaml(bench, lang):
    return f"<results>/eval/tasks/{task_name(bench, lang)}.yaml"


def plan_tasks(model, step):
    """The (benchmark, language) tasks the eval plan gives a model at a step."""
    return STUDY.eval_plan[(model, int(step))]


# Each stage's input functions and paths, apart from its rules (`snakemake --lint`).
include: "common/report.smk"
include: "common/data.smk"
include: "common/pretrain_torch.smk"
include: "common/pretrain_megatron.smk"
include: "common/merge.smk"
include: "common/evaluate.smk"
include: "common/branch.smk"


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


# Every job's container environment (profiles/lumi: the venv on PATH, caches in /tmp), as
# SINGULARITYENV_<name>: set here, it reaches each job through sbatch's --export=ALL.
for name, value in config["container_env"].items():
    os.environ.setdefault(f"SINGULARITYENV_{name}", value)


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
