# Pre-training: the shared initialisation, then every model trained from it (or, in the
# paper config, the monolingual models fetched from HPLT), saved as Hugging Face Llama
# checkpoints at the configured steps.


# The recipe every pre-trained model shares, as its jobs' params: adding a branch family
# adds models and changes none, so no finished training reruns for it; nor does a new
# grouping of the jobs (per_job).
PRETRAIN = {
    k: v for k, v in config["pretrain"].items() if k not in ("branch", "per_job")
}


rule pretrain:
    input:
        [
            checkpoint_path(model, step)
            for model in STUDY.pretrained
            for step in STUDY.steps
        ],
        [checkpoint_path(model, STUDY.final) for model in STUDY.branched],


# The shared initialisation: built (init_model), or a published step 0 (fetch_init).
if config["pretrain"]["init"] == "hub":

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
            gpu=1 if config["pretrain"]["init"] == "megatron" else 0,
        params:
            arch=config["pretrain"]["arch"],
            seed=config["seeds"]["init"],
            engine=config["pretrain"]["init"],
        script:
            "../../scripts/init_model.py"


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


if config["pretrain"]["mixed"] == "hub":

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
