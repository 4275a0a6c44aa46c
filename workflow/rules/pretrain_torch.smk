# Pre-training with the torch engine (pretrain.engine: torch, the tiny study): one process
# per model on the CPU, from the shared init; the branched experts resume Mixed's whole
# training state. Included by the Snakefile for that engine only.


rule pretrain_torch:
    input:
        init=INIT,
        corpus="<results>/data/corpus/{model}/train.jsonl",
    output:
        checkpoints=[checkpoint_path("{model}", step) for step in STUDY.steps],
    log:
        "<logs>/pretrain/{model}.log",
    benchmark:
        "<benchmarks>/pretrain/{model}.tsv"
    wildcard_constraints:
        model=alternatives([m for m in STUDY.trained if m != STUDY.mixed]),
    conda:
        "../../envs/mergelimits.yaml"
    threads: config["pretrain"]["threads"]
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        train=PRETRAIN,
        checkpoints=STUDY.steps,
        keep_state=[],
        seed=config["seeds"]["train"],
        state=lambda wc: f"{RESULTS}/pretrain_state/{wc.model}",
    script:
        "../../scripts/pretrain_torch.py"


use rule pretrain_torch as pretrain_torch_mixed with:
    # Mixed keeps its whole training state (optimiser, schedule) at every checkpoint: an
    # expert can branch from any of them, now or later, without Mixed trained again
    output:
        checkpoints=[checkpoint_path("{model}", step) for step in STUDY.steps],
        states=[branch_state(step, "{model}") for step in STUDY.steps],
    wildcard_constraints:
        model=alternatives([m for m in STUDY.trained if m == STUDY.mixed]),
    # first among the trainings: the branched experts wait for it
    priority: 10 if STUDY.branch_steps else 0
    params:
        train=PRETRAIN,
        checkpoints=STUDY.steps,
        keep_state=STUDY.steps,
        seed=config["seeds"]["train"],
        state=lambda wc: f"{RESULTS}/pretrain_state/{wc.model}",


if STUDY.branch_steps:

    use rule pretrain_torch as pretrain_branch with:
        # An expert branched from Mixed at step {branch}: Mixed's run continued on one
        # language to the final step, the same token budget as every other model.
        input:
            init=INIT,
            corpus="<results>/data/corpus/mono-{lang}/train.jsonl",
            branch_from=branch_state("{branch}"),
        output:
            checkpoints=[checkpoint_path("mono-{lang}-br{branch}", STUDY.final)],
        log:
            "<logs>/pretrain/mono-{lang}-br{branch}.log",
        benchmark:
            "<benchmarks>/pretrain/mono-{lang}-br{branch}.tsv"
        wildcard_constraints:
            branch=alternatives(map(str, STUDY.branch_steps)),
        params:
            train=PRETRAIN,
            checkpoints=[STUDY.final],
            keep_state=[],
            seed=config["seeds"]["train"],
            state=lambda wc: f"{RESULTS}/pretrain_state/mono-{wc.lang}-br{wc.branch}",
