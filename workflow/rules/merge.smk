# Merging: Merged10 across checkpoints, the bilingual pairs, successive merges; all with
# mergekit, task vectors against the shared init. Also the parametric similarity of the
# monolingual models (Appendix C).


# merge.per_job > 1: merged models grouped into jobs, a rule each (merge.smk).
MERGE_JOBS = STUDY.merge_jobs(config["merge"]["per_job"])
# What every merge_evaluate job merges and evaluates with (its params besides the models).
MERGE_SETTINGS = dict(
    density=config["merge"]["density"],
    dtype=config["merge"]["dtype"],
    merge_seed=config["seeds"]["merge"],
    keep_weights=config["merge"]["keep_weights"],
    batch_size=config["evaluate"]["batch_size"],
    eval_seed=config["seeds"]["evaluate"],
    backend=config["evaluate"]["backend"],
)


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
localrules:
    successive_order,


rule merge:
    input:
        [merge_record(model, step) for model, step in STUDY.merges],
        "<results>/merges/successive_order.json",
        "<results>/merges/parametric_similarity.tsv",
        [
            f"<results>/merges/published/{model}/step~{step}.tsv"
            for model, step in STUDY.published_merges
        ],


rule merge_evaluate:
    # One job, one process per merged model (merge.per_job: 1, the paper's): mergekit
    # merges, lm-eval evaluates the result. torch and transformers load once for both, and
    # the weights (8.6 GB at 2.15B) never leave the node.
    input:
        unpack(lambda wc: merge_inputs([(wc.model, wc.step)])),
    output:
        **merge_outputs([("{model}", "{step}")]),
    log:
        "<logs>/merge_evaluate/{model}/step~{step}.log",
    benchmark:
        "<benchmarks>/merge_evaluate/{model}/step~{step}.tsv"
    wildcard_constraints:
        # merge.per_job > 1: every merge is made by one of the rules below
        model=alternatives([]) if MERGE_JOBS else MERGED_RE,
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=150,
        mem_mb=16000,
        gpu=GPU,
    params:
        **MERGE_SETTINGS,
        models=lambda wc: merge_params([(wc.model, wc.step)]),
    script:
        "../../scripts/merge_evaluate.py"


# merge.per_job > 1: several merged models per job and process, in turn, each made as the
# rule above makes it; the imports are paid once a job. A job's outputs are per model, and
# Snakemake derives outputs from wildcards, so each job is a rule of its own.
for job, models in MERGE_JOBS.items():

    rule:
        name:
            f"merge_evaluate_{job}"
        input:
            **merge_inputs(models),
        output:
            **merge_outputs(models),
        log:
            f"<logs>/merge_evaluate/job~{job}.log",
        benchmark:
            f"<benchmarks>/merge_evaluate/job~{job}.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            runtime=150 * len(models),
            mem_mb=16000,
            gpu=GPU,
        params:
            **MERGE_SETTINGS,
            models=merge_params(models),
        script:
            "../../scripts/merge_evaluate.py"


rule successive_order:
    output:
        "<results>/merges/successive_order.json",
    log:
        "<logs>/merge/successive_order.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        order=STUDY.successive_order,
        # the seed drew the order only when none is configured
        seed=config["seeds"]["successive"] if STUDY.successive_spec is None else None,
    script:
        "../../scripts/successive_order.py"


rule parametric_similarity:
    input:
        models=[checkpoint_path(model, STUDY.final) for model in STUDY.mono],
        init=INIT,
    output:
        pairs="<results>/merges/parametric_similarity.tsv",
        layers="<results>/merges/parametric_similarity_layers.tsv",
    log:
        "<logs>/merge/parametric_similarity.log",
    benchmark:
        "<benchmarks>/merge/parametric_similarity.tsv"
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=60,
        # streamed a tensor at a time: ≈ 1.5 GB at 2.15B × 11 models (perf/bench_parametric_memory.py)
        mem_mb=4000,
    params:
        languages=STUDY.languages,
    script:
        "../../scripts/parametric_similarity.py"


if STUDY.published_merges:

    localrules:
        fetch_published_merge,

    rule fetch_published_merge:
        # The authors' merged model at a step (Sethjsa/multimerge upload_models.py: one
        # `checkpoint_NNNNNNN` branch per step of `merged-10-checkpoints`).
        input:
            init_config=INIT_CONFIG,
        output:
            weights="<results>/published/{model}/step~{step}/model.safetensors",
            record="<results>/published/{model}/step~{step}/source.json",
        log:
            "<logs>/merge/fetch_published/{model}/step~{step}.log",
        wildcard_constraints:
            model=MERGED_RE,
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=config["merge"].get("published"),
            arch=config["pretrain"]["arch"],
        script:
            "../../scripts/fetch_published.py"

    rule compare_published_merge:
        # This workflow's merge, made again as merge_evaluate made it, tensor by tensor
        # against the published one; fails beyond merge.published.tolerance_ulp.
        input:
            members=lambda wc: [
                checkpoint_path(modelid.mono(lang), wc.step)
                for lang in STUDY.members(wc.model)
            ],
            base=INIT,
            published=rules.fetch_published_merge.output.weights,
        output:
            "<results>/merges/published/{model}/step~{step}.tsv",
        log:
            "<logs>/merge/compare_published/{model}/step~{step}.log",
        wildcard_constraints:
            model=MERGED_RE,
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            runtime=60,
            mem_mb=32000,
        params:
            method=lambda wc: modelid.parse(wc.model).method,
            density=config["merge"]["density"],
            dtype=config["merge"]["dtype"],
            seed=config["seeds"]["merge"],
            tolerance=config["merge"].get("published", {}).get("tolerance_ulp"),
            published=lambda wc: "{repo}@{revision}".format(
                repo=config["merge"]["published"]["repo"],
                revision=config["merge"]["published"]["revision"].format(
                    step=int(wc.step)
                ),
            ),
        script:
            "../../scripts/compare_published_merge.py"
