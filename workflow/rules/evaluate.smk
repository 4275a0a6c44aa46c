# Evaluation: lm-eval task YAMLs for every benchmark × language, one harness call per
# model, per-item scores in one store, bootstrap CIs and Tables 1-7.


TABLES = [
    f"<results>/tables/{stem}.{ext}"
    for stem in STUDY.table_stems
    for ext in captions.FORMATS
]


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
# (score_store and make_tables read every per-item score: gigabytes at paper scale.)
localrules:
    fetch_baseline,
    flores_pairs,
    lm_eval_tasks,
    model_sizes,


rule tables:
    input:
        TABLES,


rule flores_pairs:
    # One job for every language: each pairing takes a second, a process start longer.
    input:
        **{
            f"{lang}_{split}": f"<results>/data/benchmarks/flores/lang~{lang}/{split}.jsonl"
            for lang in langtable.available("flores", list(STUDY.languages))
            for split in ("dev", "devtest")
        },
    output:
        **{
            f"{lang}_{split}": path
            for lang in STUDY.flores_langs
            for split, path in task_files("flores", lang).items()
        },
    log:
        "<logs>/evaluate/flores_pairs.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        languages=STUDY.flores_langs,
    script:
        "../../scripts/flores_pairs.py"


rule lm_eval_tasks:
    input:
        data=list(
            dict.fromkeys(
                f for b, lang in STUDY.tasks for f in task_files(b, lang).values()
            )
        ),
        templates=[str(benchmarks.get(b).template) for b in STUDY.benchmarks],
    output:
        [task_yaml(b, lang) for b, lang in STUDY.tasks],
        "<results>/eval/tasks/ml_prompts.py",
    log:
        "<logs>/evaluate/lm_eval_tasks.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        files={(b, lang): task_files(b, lang) for b, lang in STUDY.tasks},
        settings={
            k: config["evaluate"].get(k)
            for k in ("prompts", "layouts", "num_fewshot", "max_items", "flores")
        },
        seed=config["seeds"]["evaluate"],
    script:
        "../../scripts/lm_eval_tasks.py"


rule fetch_baseline:
    # An external baseline (config `baselines`): fetched once, evaluated like the experts.
    output:
        weights=checkpoint_path("{model}", modelid.EXTERNAL_STEP),
        record=f"<results>/models/{{model}}/step~{modelid.EXTERNAL_STEP}/source.json",
    log:
        "<logs>/evaluate/fetch_baseline/{model}.log",
    wildcard_constraints:
        model=alternatives(BASELINES),
    retries: 3
    conda:
        "../../envs/mergelimits.yaml"
    params:
        entry=lambda wc: BASELINES[wc.model],
    script:
        "../../scripts/fetch_baseline.py"


# evaluate.per_job > 1: Mixed's evaluations at its checkpoints grouped into jobs (below).
MIXED_JOBS = STUDY.mixed_eval_jobs(config["evaluate"]["per_job"])
# What every evaluate_model job evaluates with (its params besides the models).
CHECKPOINT_SETTINGS = dict(
    batch_size=config["evaluate"]["batch_size"],
    seed=config["seeds"]["evaluate"],
    backend=config["evaluate"]["backend"],
)


rule evaluate_model:
    # A pre-trained model (experts, Mixed) or an external baseline; merged models are
    # evaluated by merge_evaluate.
    input:
        **checkpoint_inputs([("{model}", "{step}")]),
    output:
        **checkpoint_outputs([("{model}", "{step}")]),
    log:
        "<logs>/evaluate/{model}/step~{step}.log",
    benchmark:
        "<benchmarks>/evaluate/{model}/step~{step}.tsv"
    wildcard_constraints:
        model=alternatives([*STUDY.pretrained, *STUDY.branched, *BASELINES]),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=120,
        mem_mb=16000,
        gpu=GPU,
    params:
        **CHECKPOINT_SETTINGS,
        models=checkpoint_params([("{model}", "{step}")]),
    script:
        "../../scripts/evaluate_model.py"


# evaluate.per_job > 1: Mixed's checkpoints grouped into jobs (the early ones together), a
# rule each, evaluated in turn by one process as the rule above evaluates each (as
# merge_evaluate_<job>, merge.smk); Snakemake prefers a rule without wildcards to the one
# above for the same file.
for job, members in MIXED_JOBS.items():

    rule:
        name:
            f"evaluate_{job}"
        input:
            **checkpoint_inputs(members),
        output:
            **checkpoint_outputs(members),
        log:
            f"<logs>/evaluate/job~{job}.log",
        benchmark:
            f"<benchmarks>/evaluate/job~{job}.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            runtime=120 * len(members),
            mem_mb=16000,
            gpu=GPU,
        params:
            **CHECKPOINT_SETTINGS,
            models=checkpoint_params(members),
        script:
            "../../scripts/evaluate_model.py"


# evaluate.per_job > 1: the experts' evaluations grouped into jobs, a rule each (below).
EXPERT_JOBS = STUDY.expert_eval_jobs(config["evaluate"]["per_job"])
# What every expert-evaluation job evaluates with (its params besides the models).
EXPERT_SETTINGS = dict(CHECKPOINT_SETTINGS, analysis=config["analysis"])


rule evaluate_expert:
    # An expert at the final step: its evaluation and, in the same process, its activations
    # on English and own-language FLORES for CKA. One model-loading process instead of two:
    # each pays about 5 s of imports on a CPU (perf/README.md).
    input:
        **expert_inputs(["{model}"]),
    output:
        **expert_outputs(["{model}"]),
    log:
        f"<logs>/evaluate/{{model}}/step~{STUDY.final}.log",
    benchmark:
        f"<benchmarks>/evaluate/{{model}}/step~{STUDY.final}.tsv"
    wildcard_constraints:
        # evaluate.per_job > 1: every expert is evaluated by one of the rules below
        model=(
            alternatives([])
            if EXPERT_JOBS
            else alternatives([*STUDY.mono, *STUDY.branched])
        ),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=120,
        mem_mb=16000,
        gpu=GPU,
    params:
        **EXPERT_SETTINGS,
        models=expert_params(["{model}"]),
    script:
        "../../scripts/evaluate_expert.py"


# evaluate.per_job > 1: several experts per job and process, in turn, each evaluated as the
# rule above does it; the imports are paid once a job (as merge_evaluate_<job>, merge.smk).
# Snakemake prefers a rule without wildcards to evaluate_model for the same file.
for job, models in EXPERT_JOBS.items():

    rule:
        name:
            f"evaluate_{job}"
        input:
            **expert_inputs(models),
        output:
            **expert_outputs(models),
        log:
            f"<logs>/evaluate/job~{job}.log",
        benchmark:
            f"<benchmarks>/evaluate/job~{job}.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        resources:
            runtime=120 * len(models),
            mem_mb=16000,
            gpu=GPU,
        params:
            **EXPERT_SETTINGS,
            models=expert_params(models),
        script:
            "../../scripts/evaluate_expert.py"


# An expert's evaluation at the final step also caches its activations.
ruleorder: evaluate_expert > evaluate_model


rule score_store:
    input:
        [
            f"<results>/eval/{model}/step~{step}/scores.tsv"
            for model, step in STUDY.eval_plan
        ],
    output:
        "<results>/eval/scores.parquet",
    log:
        "<logs>/evaluate/score_store.log",
    conda:
        "../../envs/mergelimits.yaml"
    script:
        "../../scripts/score_store.py"


rule aggregate_scores:
    input:
        "<results>/eval/scores.parquet",
    output:
        "<results>/eval/aggregate.tsv",
    log:
        "<logs>/evaluate/aggregate_scores.log",
    benchmark:
        "<benchmarks>/evaluate/aggregate_scores.tsv"
    conda:
        "../../envs/mergelimits.yaml"
    params:
        n=config["evaluate"]["bootstrap"],
        seed=config["seeds"]["bootstrap"],
        acc_norm=config["evaluate"]["acc_norm"],
    script:
        "../../scripts/aggregate_scores.py"


rule translate_examples:
    # Table 7 as the authors' flores.py: English FLORES sentences translated by Mixed and
    # Merged-N with their instruction prompt and beam search, apart from the evaluation
    # (whose FLORES outputs are sampled in the paper config).
    input:
        unpack(translation_inputs),
    output:
        "<results>/eval/{model}/step~{step}/examples.jsonl",
    log:
        "<logs>/evaluate/translate_examples/{model}/step~{step}.log",
    benchmark:
        "<benchmarks>/evaluate/translate_examples/{model}/step~{step}.tsv"
    wildcard_constraints:
        model=alternatives(list(TRANSLATED.values())),
        step=str(STUDY.final),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=60,
        mem_mb=16000,
        gpu=GPU,
    params:
        examples=config["evaluate"]["flores_examples"],
        method=lambda wc: modelid.parse(wc.model).method,
        density=config["merge"]["density"],
        dtype=config["merge"]["dtype"],
        merge_seed=config["seeds"]["merge"],
    script:
        "../../scripts/translate_examples.py"


rule model_sizes:
    # Table 1's Params/B, from the checkpoints' headers: a merge has its experts' shape.
    input:
        **{
            model: checkpoint_path(model, STUDY.step_of(model))
            for model in STUDY.sized_models
        },
    output:
        "<results>/tables/model_sizes.tsv",
    log:
        "<logs>/evaluate/model_sizes.log",
    conda:
        "../../envs/mergelimits.yaml"
    script:
        "../../scripts/model_sizes.py"


rule make_tables:
    input:
        **{
            f"examples_{i}": translation_path(m)
            for i, m in enumerate(TRANSLATED.values())
        },
        store="<results>/eval/scores.parquet",
        agg="<results>/eval/aggregate.tsv",
        sizes="<results>/tables/model_sizes.tsv",
        models="<results>/models.tsv",  # the rows (mergelimits.catalog.table_rows)
        # Table 7 decoded for itself (evaluate.flores_examples.decoding), label -> its file
    output:
        [in_report(path) for path in TABLES],
    log:
        "<logs>/evaluate/make_tables.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        languages=STUDY.languages,
        benchmarks=STUDY.benchmarks,
        step=STUDY.final,
        flores_examples=config["evaluate"]["flores_examples"],
        translated=list(TRANSLATED),
        table1_languages=config["tables"]["table1_languages"],
        controls=list(STUDY.controls) if STUDY.has_controls else [],
        captions=TABLE_CAPTIONS,
        # label -> (model whose checkpoint gives the size, training tokens in billions)
        facts={
            label: (STUDY.sized_by(model), STUDY.tokens_b(model))
            for label, model in STUDY.table_rows
        },
    script:
        "../../scripts/make_tables.py"
