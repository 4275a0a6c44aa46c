# The pretrain megatron stage's input functions and paths (pretrain_megatron.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def corpus_budget(corpus):
    """Tokens the Megatron runs index from one corpus: a model's steps × global batch ×
    sequence length, split evenly over its corpora (Mixed10: a tenth each)."""
    return max(
        expert_budget() // len(STUDY.model_corpora(m))
        for m in STUDY.trained
        if corpus in STUDY.model_corpora(m)
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
    return [
        f"<results>/megatron/data/{where}{c}.idx" for c in STUDY.model_corpora(model)
    ]


def megatron_outputs(model):
    """The steps a Megatron run publishes: all checkpoints; a branched expert's final."""
    return [STUDY.final] if modelid.branch_of(model) else STUDY.steps


def megatron_tasks():
    meg = config["pretrain"].get("megatron", {})
    return meg.get("nodes", 1) * meg.get("gpus_per_node", 1)


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
