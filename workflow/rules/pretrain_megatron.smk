# Pre-training with megatron-core (pretrain.engine: megatron, the paper config on LUMI):
# corpora indexed once, a run config per model, torchrun across the job's GPUs, exported
# to Hugging Face checkpoints. Included by the Snakefile for that engine only.


localrules:
    megatron_run_config,


rule megatron_index:
    input:
        corpus="<results>/data/corpus/{corpus}/train.jsonl",
        tokenizer=TOKENIZER,
    output:
        bin="<results>/megatron/data/{corpus}.bin",
        idx="<results>/megatron/data/{corpus}.idx",
        record="<results>/megatron/data/{corpus}.json",
    log:
        "<logs>/pretrain/megatron_index/{corpus}.log",
    benchmark:
        "<benchmarks>/pretrain/megatron_index/{corpus}.tsv"
    wildcard_constraints:
        corpus=alternatives(STUDY.mono),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=720,
        mem_mb=32000,
    params:
        budget=lambda wc: corpus_budget(wc.corpus),
        max_epochs=config["pretrain"]["megatron"]["max_epochs"],
    script:
        "../../scripts/megatron_index.py"


if STUDY.branch_steps:

    use rule megatron_index as megatron_index_expert with:
        # a branched expert's language, indexed for a whole run
        output:
            bin="<results>/megatron/data/expert/{corpus}.bin",
            idx="<results>/megatron/data/expert/{corpus}.idx",
            record="<results>/megatron/data/expert/{corpus}.json",
        log:
            "<logs>/pretrain/megatron_index_expert/{corpus}.log",
        benchmark:
            "<benchmarks>/pretrain/megatron_index_expert/{corpus}.tsv"
        params:
            budget=expert_budget(),
            max_epochs=config["pretrain"]["megatron"]["max_epochs"],


rule megatron_run_config:
    input:
        init=INIT,
        tokenizer=TOKENIZER,
        idx=lambda wc: corpus_index(wc.model),
        # a branched expert continues Mixed's saved iteration (optimiser included)
        branch_from=lambda wc: (
            f"<results>/megatron/{STUDY.mixed}/step~{modelid.branch_of(wc.model)}/metadata.json"
            if modelid.branch_of(wc.model)
            else []
        ),
    output:
        "<results>/megatron/{model}/run.json",
    log:
        "<logs>/pretrain/megatron_run_config/{model}.log",
    wildcard_constraints:
        model=alternatives([*STUDY.trained, *STUDY.branched]),
    conda:
        "../../envs/mergelimits.yaml"
    params:
        pretrain=PRETRAIN,
        seed=config["seeds"]["train"],
        env=config["megatron_env"],
        state=lambda wc: f"{RESULTS}/megatron_state/{wc.model}",
        outputs=lambda wc: {
            step: f"{RESULTS}/megatron/{wc.model}/step~{step}"
            for step in megatron_outputs(wc.model)
        },
    script:
        "../../scripts/megatron_run_config.py"


rule pretrain_megatron:
    input:
        run="<results>/megatron/{model}/run.json",
    output:
        [
            f"<results>/megatron/{{model}}/step~{step}/metadata.json"
            for step in STUDY.steps
        ],
    log:
        "<logs>/pretrain/pretrain_megatron/{model}.log",
    benchmark:
        "<benchmarks>/pretrain/pretrain_megatron/{model}.tsv"
    wildcard_constraints:
        model=alternatives(STUDY.trained),
    # The job stops before the wall limit and exits 75; each retry resumes it. As many as
    # the estimated run needs, and spares (cost.pretrain_retries); a crash without
    # progress is refused on resubmission (train_gpt.check_progress).
    retries: cost.pretrain_retries(config["pretrain"])
    conda:
        "../../envs/mergelimits.yaml"
    # The launcher (the profile's `mpi`: srun on LUMI, torchrun here) runs outside the
    # image and starts one rank per GCD; each rank's python runs inside it (params.exec).
    container:
        None
    resources:
        nodes=config["pretrain"].get("megatron", {}).get("nodes", 1),
        tasks=lambda wc: megatron_tasks(),
        gpu=lambda wc: megatron_tasks(),  # in all: the plugin asks for --gpus=<total>
        tasks_per_gpu=1,
        runtime=config["pretrain"].get("megatron", {}).get("wall_min", 60),
        mpi="srun",
    params:
        launch=lambda wc, resources: resources.mpi.format(
            nodes=config["pretrain"]["megatron"]["nodes"],
            gpus_per_node=config["pretrain"]["megatron"]["gpus_per_node"],
        ),
        exec=container_exec(),
    shell:
        "{params.launch} {params.exec} python -m mergelimits.megatron.train_gpt {input.run} >> {log} 2>&1"


if STUDY.branch_steps:

    use rule pretrain_megatron as pretrain_megatron_branch with:
        # Mixed's run continued on one language from a saved iteration to the end
        output:
            f"<results>/megatron/{{model}}/step~{STUDY.final}/metadata.json",
        wildcard_constraints:
            model=alternatives(STUDY.branched),


rule export_megatron:
    input:
        ckpt="<results>/megatron/{model}/step~{step}/metadata.json",
        run="<results>/megatron/{model}/run.json",
    output:
        checkpoint_path("{model}", "{step}"),
    log:
        "<logs>/pretrain/export_megatron/{model}/step~{step}.log",
    wildcard_constraints:
        model=alternatives([*STUDY.trained, *STUDY.branched]),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=60,
        mem_mb=64000,
    script:
        "../../scripts/export_megatron.py"
