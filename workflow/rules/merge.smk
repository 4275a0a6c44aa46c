# Merging: Merged10 across checkpoints, the bilingual pairs, successive merges; all with
# mergekit, task vectors against the shared init. Also the parametric similarity of the
# monolingual models (Appendix C).


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
localrules:
    successive_order,


rule merge:
    input:
        [merge_record(model, step) for model, step in MERGES],
        "<results>/merges/successive_order.json",
        "<results>/merges/parametric_similarity.tsv",


rule merge_models:
    # run: keeps mergekit imported once per Snakemake process (profiles/local uses
    # threads), instead of paying its ~6 s import in each of the study's ~60 merges.
    input:
        members=lambda wc: [
            checkpoint_path(mono(lang), wc.step) for lang in merge_members(wc.model)
        ],
        base=rules.init_model.output.weights,
    output:
        weights=maybe_temp(checkpoint_path("{model}", "{step}")),
        config="<results>/models/{model}/step~{step}/config.json",
        record="<results>/models/{model}/step~{step}/merge.json",
    log:
        "<logs>/merge/{model}/step~{step}.log",
    benchmark:
        "<benchmarks>/merge/{model}/step~{step}.tsv"
    wildcard_constraints:
        model=MERGED_RE,
    resources:
        runtime=30,
        mem_mb=8000,
    params:
        method=lambda wc: modelid.parse(wc.model).method,
        density=config["merge"]["density"],
        seed=config["seeds"]["merge"],
    run:
        with runlog.job(log[0], rule):
            merging.run_job(input, output, params)


rule successive_order:
    output:
        "<results>/merges/successive_order.json",
    log:
        "<logs>/merge/successive_order.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        order=SUCCESSIVE_ORDER,
        seed=config["seeds"]["successive"],
    script:
        "../../scripts/successive_order.py"


rule parametric_similarity:
    input:
        models=[checkpoint_path(mono(lang), FINAL) for lang in LANGS],
        init=rules.init_model.output.weights,
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
        mem_mb=16000,
    params:
        languages=LANGS,
    script:
        "../../scripts/parametric_similarity.py"
