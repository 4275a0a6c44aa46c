# Analysis: layer-wise CKA of every pair of experts (their activations are cached by
# evaluate_expert, evaluate.smk),
# lang2vec distances, the merge drop Δ of every bilingual pair, and Table 8.


TABLE8 = [f"<results>/tables/table8.{ext}" for ext in captions.FORMATS]


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


rule cka:
    input:
        expand(
            "<results>/analysis/activations/{model}/step~{step}/{variant}.npy",
            model=STUDY.mono,
            step=STUDY.final,
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
