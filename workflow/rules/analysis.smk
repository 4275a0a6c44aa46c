# Analysis: activations cached once per monolingual model, layer-wise CKA of every pair,
# lang2vec distances, the merge drop Δ of every bilingual pair, and Table 8.


TABLE8 = [f"<results>/tables/table8.{ext}" for ext in tables.FORMATS]


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
localrules:
    cka,
    lang2vec_distance,
    table8,


rule analysis:
    input:
        "<results>/analysis/pairs.tsv",
        TABLE8,


rule activations:
    input:
        weights=checkpoint_path("{model}", STUDY.final),
        eng="<results>/data/benchmarks/flores/lang~eng/devtest.jsonl",
        own=lambda wc: f"<results>/data/benchmarks/flores/lang~{modelid.mono_lang(wc.model)}/devtest.jsonl",
    output:
        eng="<results>/analysis/activations/{model}/eng.npy",
        own="<results>/analysis/activations/{model}/own.npy",
    log:
        "<logs>/analysis/activations/{model}.log",
    benchmark:
        "<benchmarks>/analysis/activations/{model}.tsv"
    wildcard_constraints:
        model=alternatives([*STUDY.mono, *STUDY.branched]),
    conda:
        "../../envs/mergelimits.yaml"
    resources:
        runtime=60,
        mem_mb=16000,
        gpu=GPU,
    params:
        batch_size=config["analysis"]["batch_size"],
        bos=config["analysis"]["bos"],
        max_length=config["analysis"]["max_length"],
    script:
        "../../scripts/activations.py"


rule cka:
    input:
        expand(
            "<results>/analysis/activations/{model}/{variant}.npy",
            model=STUDY.mono,
            variant=["eng", "own"],
        ),
    output:
        "<results>/analysis/cka.tsv",
    log:
        "<logs>/analysis/cka.log",
    benchmark:
        "<benchmarks>/analysis/cka.tsv"
    conda:
        "../../envs/mergelimits.yaml"
    script:
        "../../scripts/cka.py"


rule lang2vec_distance:
    output:
        "<results>/analysis/lang2vec.tsv",
    log:
        "<logs>/analysis/lang2vec_distance.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        languages=STUDY.languages,
    script:
        "../../scripts/lang2vec_distance.py"


rule table8:
    input:
        agg="<results>/eval/aggregate.tsv",
        store="<results>/eval/scores.parquet",  # Δ's paired-bootstrap CI
        cka="<results>/analysis/cka.tsv",
        parametric="<results>/merges/parametric_similarity.tsv",
        lang2vec="<results>/analysis/lang2vec.tsv",
        models="<results>/models.tsv",
    output:
        pairs="<results>/analysis/pairs.tsv",
        tables=[in_report(path) for path in TABLE8],
    log:
        "<logs>/analysis/table8.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        pairs=list(STUDY.pairs),
        method=STUDY.pair_method,
        step=STUDY.final,
        captions=TABLE_CAPTIONS,
        n=config["evaluate"]["bootstrap"],
        seed=config["seeds"]["bootstrap"],
    script:
        "../../scripts/table8.py"
