# Evaluation: lm-eval task YAMLs for every benchmark × language, one harness call per
# model, per-item scores in one store, bootstrap CIs and Tables 1-7.


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
# (score_store and make_tables read every per-item score: gigabytes at paper scale.)
localrules:
    flores_pairs,
    lm_eval_tasks,


rule tables:
    input:
        TABLES,


rule flores_pairs:
    input:
        source=lambda wc: f"<results>/data/benchmarks/flores/lang~{flores_src(wc.lang)}/{wc.split}.jsonl",
        target="<results>/data/benchmarks/flores/lang~{lang}/{split}.jsonl",
    output:
        "<results>/eval/flores_pairs/lang~{lang}/{split}.jsonl",
    log:
        "<logs>/evaluate/flores_pairs/lang~{lang}/{split}.log",
    wildcard_constraints:
        split="dev|devtest",
    run:
        with runlog.job(log[0], rule):
            evaluation.write_flores_pairs(input, output, wildcards)


rule lm_eval_tasks:
    input:
        data=[f for files in EVAL_TASK_FILES.values() for f in files.values()],
        templates=[REPO / "resources" / "lm_eval" / f"{b}.yaml" for b in BENCHES],
    output:
        [
            f"<results>/eval/tasks/{evaluation.task_name(b, lang)}.yaml"
            for b, lang in EVAL_TASK_FILES
        ],
    log:
        "<logs>/evaluate/lm_eval_tasks.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        files=EVAL_TASK_FILES,
        flores=config["evaluate"]["flores"],
    script:
        "../../scripts/lm_eval_tasks.py"


rule evaluate_model:
    # run: keeps lm-eval imported once per Snakemake process (see merge_models).
    input:
        weights=checkpoint_path("{model}", "{step}"),
        tasks=lambda wc: [
            f"<results>/eval/tasks/{evaluation.task_name(b, lang)}.yaml"
            for b, lang in EVAL_PLAN[(wc.model, int(wc.step))]
        ],
    output:
        scores="<results>/eval/{model}/step~{step}/scores.tsv",
        samples="<results>/eval/{model}/step~{step}/samples.jsonl",
    log:
        "<logs>/evaluate/{model}/step~{step}.log",
    benchmark:
        "<benchmarks>/evaluate/{model}/step~{step}.tsv"
    resources:
        runtime=120,
        mem_mb=16000,
        gpu=1 if config["pretrain"]["engine"] == "megatron" else 0,
    params:
        tasks=lambda wc: [
            evaluation.task_name(b, lang)
            for b, lang in EVAL_PLAN[(wc.model, int(wc.step))]
        ],
        batch_size=config["evaluate"]["batch_size"],
        seed=config["seeds"]["evaluate"],
    run:
        with runlog.job(log[0], rule):
            evaluation.run_job(input, output, params, wildcards)


rule score_store:
    input:
        [f"<results>/eval/{model}/step~{step}/scores.tsv" for model, step in EVAL_PLAN],
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
    script:
        "../../scripts/aggregate_scores.py"


rule make_tables:
    input:
        store="<results>/eval/scores.parquet",
        agg="<results>/eval/aggregate.tsv",
    output:
        [in_report(path) for path in TABLES],
    log:
        "<logs>/evaluate/make_tables.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        rows=TABLE_ROWS,
        languages=LANGS,
        benchmarks=BENCHES,
        step=FINAL,
        flores_examples=config["evaluate"]["flores_examples"],
    script:
        "../../scripts/make_tables.py"
