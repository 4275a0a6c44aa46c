# Pre-training: the shared initialisation, then every model trained from it (or, in the
# paper config, the monolingual models fetched from HPLT), saved as Hugging Face Llama
# checkpoints at the configured steps.


rule pretrain:
    input:
        [checkpoint_path(model, step) for model in MODELS_PRETRAINED for step in STEPS],


rule init_model:
    input:
        TOKENIZER,
    output:
        weights="<results>/models/init/model.safetensors",
        config="<results>/models/init/config.json",
        record="<results>/models/init/init.json",
    log:
        "<logs>/pretrain/init_model.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        arch=config["pretrain"]["arch"],
        seed=config["seeds"]["init"],
    script:
        "../../scripts/init_model.py"


if config["pretrain"]["engine"] == "torch":

    rule pretrain_torch:
        input:
            init=rules.init_model.output.weights,
            corpus="<results>/data/corpus/{model}/train.jsonl",
        output:
            [checkpoint_path("{model}", step) for step in STEPS],
        log:
            "<logs>/pretrain/{model}.log",
        benchmark:
            "<benchmarks>/pretrain/{model}.tsv"
        wildcard_constraints:
            model=alternatives(MODELS_TRAINED),
        conda:
            "../../envs/mergelimits.yaml"
        threads: config["pretrain"].get("threads", 1)
        resources:
            runtime=60,
            mem_mb=4000,
        params:
            train=config["pretrain"],
            seed=config["seeds"]["train"],
            state="<results>/pretrain_state/{model}",
        script:
            "../../scripts/pretrain_torch.py"


if config["pretrain"]["monolingual"] == "hplt":

    localrules:
        fetch_hplt_checkpoint,

    rule fetch_hplt_checkpoint:
        output:
            weights=checkpoint_path("mono-{lang}", "{step}"),
            record="<results>/models/mono-{lang}/step~{step}/source.json",
        log:
            "<logs>/pretrain/fetch_hplt/mono-{lang}/step~{step}.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            hplt=config["pretrain"].get("hplt"),
            arch=config["pretrain"]["arch"],
        script:
            "../../scripts/fetch_hplt_checkpoint.py"
