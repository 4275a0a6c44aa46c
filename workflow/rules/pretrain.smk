# Pre-training: the shared initialisation, then every model trained from it (or, in the
# paper config, the monolingual models fetched from HPLT), saved as Hugging Face Llama
# checkpoints at the configured steps.


rule pretrain:
    input:
        [
            checkpoint_path(model, step)
            for model in STUDY.pretrained
            for step in STUDY.steps
        ],
        [checkpoint_path(model, STUDY.final) for model in STUDY.branched],


# The shared initialisation: built (init_model), or a published step 0 (fetch_init).
if config["pretrain"].get("init") == "hub":

    localrules:
        fetch_init,

    rule fetch_init:
        # The authors' step 0 (their checkpoint_0000000), a download on the login node.
        input:
            TOKENIZER,
        output:
            weights=INIT,
            config=INIT_CONFIG,
            record="<results>/models/init/init.json",
        log:
            "<logs>/pretrain/fetch_init.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=config["pretrain"].get("init_hub"),
            arch=config["pretrain"]["arch"],
        script:
            "../../scripts/fetch_init.py"

else:

    rule init_model:
        input:
            TOKENIZER,
        output:
            weights=INIT,
            config=INIT_CONFIG,
            record="<results>/models/init/init.json",
        log:
            "<logs>/pretrain/init_model.log",
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            # megatron-core draws HPLT's step 0 where HPLT drew it: on a GPU
            gpu=1 if config["pretrain"].get("init", "torch") == "megatron" else 0,
        params:
            arch=config["pretrain"]["arch"],
            seed=config["seeds"]["init"],
            engine=config["pretrain"].get("init", "torch"),
        script:
            "../../scripts/init_model.py"


if config["pretrain"]["engine"] == "torch":

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
        threads: config["pretrain"].get("threads", 1)
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


if config["pretrain"]["engine"] == "megatron":

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
            max_epochs=config["pretrain"]["megatron"].get("max_epochs", 1),
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
                max_epochs=config["pretrain"]["megatron"].get("max_epochs", 1),

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
            env=config.get("megatron_env", {}),
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


if config["pretrain"]["monolingual"] == "hplt":

    localrules:
        fetch_hplt_checkpoint,

    rule fetch_hplt_checkpoint:
        output:
            weights=checkpoint_path(modelid.mono("{lang}"), "{step}"),
            record=f"<results>/models/{modelid.mono('{lang}')}/step~{{step}}/source.json",
        log:
            f"<logs>/pretrain/fetch_hplt/{modelid.mono('{lang}')}/step~{{step}}.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            hplt=config["pretrain"].get("hplt"),
            arch=config["pretrain"]["arch"],
        script:
            "../../scripts/fetch_hplt_checkpoint.py"

    rule verify_init:
        # TIES and DARE-TIES take task vectors against the init: it must be the one HPLT's
        # experts started from. An early checkpoint (inside the warm-up) is still close to it.
        input:
            init=INIT,
            published=checkpoint_path(
                modelid.mono(config["pretrain"]["verify_init"]["lang"]),
                config["pretrain"]["verify_init"]["step"],
            ),
        output:
            "<results>/models/init/verify_init.tsv",
        log:
            "<logs>/pretrain/verify_init.log",
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            mem_mb=32000,
        params:
            min_cosine=config["pretrain"]["verify_init"]["min_cosine"],
        script:
            "../../scripts/verify_init.py"


if config["pretrain"].get("mixed", "train") == "hub":

    localrules:
        fetch_mixed_checkpoint,

    rule fetch_mixed_checkpoint:
        # The published Mixed model instead of pre-training it (the authors' checkpoints):
        # no Megatron job at all; checked against the architecture and the init's vocabulary.
        input:
            init_config=INIT_CONFIG,
        output:
            weights=checkpoint_path(STUDY.mixed, "{step}"),
            record=f"<results>/models/{STUDY.mixed}/step~{{step}}/source.json",
        log:
            f"<logs>/pretrain/fetch_mixed/{STUDY.mixed}/step~{{step}}.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=config["pretrain"].get("mixed_hub"),
            arch=config["pretrain"]["arch"],
        script:
            "../../scripts/fetch_published.py"
