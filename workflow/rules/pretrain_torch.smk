# Pre-training with the torch engine (pretrain.engine: torch, the tiny study): one process
# per model on the CPU (or per pretrain.per_job experts), from the shared init; the branched
# experts resume Mixed's whole training state. Included by the Snakefile for that engine only.


# pretrain.per_job > 1: the experts trained in groups, a rule each (below).
TRAIN_JOBS = STUDY.train_jobs(config["pretrain"]["per_job"])


rule pretrain_torch:
    input:
        **torch_train_inputs(["{model}"], ["{model}"]),
    output:
        **torch_train_outputs(["{model}"]),
    log:
        "<logs>/pretrain/{model}.log",
    benchmark:
        "<benchmarks>/pretrain/{model}.tsv"
    wildcard_constraints:
        # pretrain.per_job > 1: every expert is trained by one of the rules below
        model=alternatives(
            [] if TRAIN_JOBS else [m for m in STUDY.trained if m != STUDY.mixed]
        ),
    conda:
        "../../envs/mergelimits.yaml"
    threads: config["pretrain"]["threads"]
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        train=PRETRAIN,
        seed=config["seeds"]["train"],
        models=torch_train_params(["{model}"]),
    script:
        "../../scripts/pretrain_torch.py"


use rule pretrain_torch as pretrain_torch_mixed with:
    # Mixed keeps its whole training state (optimiser, schedule) at every checkpoint: an
    # expert can branch from any of them, now or later, without Mixed trained again
    output:
        **torch_train_outputs(["{model}"], keep_state=True),
    wildcard_constraints:
        model=alternatives([m for m in STUDY.trained if m == STUDY.mixed]),
    # first among the trainings: the branched experts wait for it
    priority: 10 if STUDY.branch_steps else 0
    params:
        train=PRETRAIN,
        seed=config["seeds"]["train"],
        models=torch_train_params(["{model}"], keep_state=True),


if STUDY.branch_steps:

    use rule pretrain_torch as pretrain_branch with:
        # An expert branched from Mixed at step {branch}: Mixed's run continued on one
        # language to the final step, the same token budget as every other model.
        input:
            **torch_train_inputs(
                ["mono-{lang}-br{branch}"], ["mono-{lang}"], "{branch}"
            ),
        output:
            **torch_train_outputs(["mono-{lang}-br{branch}"], "{branch}"),
        log:
            "<logs>/pretrain/mono-{lang}-br{branch}.log",
        benchmark:
            "<benchmarks>/pretrain/mono-{lang}-br{branch}.tsv"
        wildcard_constraints:
            branch=alternatives([] if TRAIN_JOBS else map(str, STUDY.branch_steps)),
        params:
            train=PRETRAIN,
            seed=config["seeds"]["train"],
            models=torch_train_params(["mono-{lang}-br{branch}"], "{branch}"),


# pretrain.per_job > 1: several experts of one family per job and process, in turn, each
# trained as the rules above train it (its own seed, threads and state); torch's and
# transformers' imports are paid once a job. Snakemake prefers these wildcard-free rules.
for job, models in TRAIN_JOBS.items():
    branch = modelid.branch_of(models[0]) or None

    rule:
        name:
            f"pretrain_torch_{job}"
        input:
            **torch_train_inputs(models, [STUDY.corpus_of(m) for m in models], branch),
        output:
            **torch_train_outputs(models, branch),
        log:
            f"<logs>/pretrain/job~{job}.log",
        benchmark:
            f"<benchmarks>/pretrain/job~{job}.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        threads: config["pretrain"]["threads"]
        resources:
            runtime=60 * len(models),
            mem_mb=4000,
        params:
            train=PRETRAIN,
            seed=config["seeds"]["train"],
            models=torch_train_params(models, branch),
        script:
            "../../scripts/pretrain_torch.py"
