# Beyond the paper (issue 15): experts branched from Mixed at the steps of
# pretrain.branch, each family merged as merge.branch says (Merged-N by method, pairs,
# successive), with weight matching as a method (linear_wm); per family its CKA, its
# parametric similarity against the Mixed checkpoint it left, Table 8; then Figure 4 and
# the branch table across families. The branched experts train in pretrain.smk, their
# merges in merge_evaluate, their evaluations in evaluate_model: the same rules as the
# paper's models.


FIGURE4_TITLE = (
    "Figure 4 — experts branched from Mixed, merged with and without weight matching"
)


localrules:
    cka_branch,
    table8_branch,
    figure4,


rule branch:
    input:
        BRANCH_OUTPUTS,


use rule cka as cka_branch with:
    input:
        lambda wc: expand(
            "<results>/analysis/activations/{model}/step~{step}/{variant}.npy",
            model=STUDY.experts(int(wc.branch)),
            step=STUDY.final,
            variant=["eng", "own"],
        ),
    output:
        "<results>/analysis/branch~{branch}/cka.tsv",
    log:
        "<logs>/analysis/cka_branch/branch~{branch}.log",
    benchmark:
        "<benchmarks>/analysis/cka_branch/branch~{branch}.tsv"


use rule parametric_similarity as parametric_similarity_branch with:
    # task vectors against the Mixed checkpoint the family left
    input:
        models=lambda wc: [
            checkpoint_path(m, STUDY.final) for m in STUDY.experts(int(wc.branch))
        ],
        init=checkpoint_path(STUDY.mixed, "{branch}"),
    output:
        pairs="<results>/merges/branch~{branch}/parametric_similarity.tsv",
        layers="<results>/merges/branch~{branch}/parametric_similarity_layers.tsv",
    log:
        "<logs>/merge/parametric_similarity_branch/branch~{branch}.log",
    benchmark:
        "<benchmarks>/merge/parametric_similarity_branch/branch~{branch}.tsv"


use rule table8 as table8_branch with:
    input:
        agg="<results>/eval/aggregate.tsv",
        store="<results>/eval/scores.parquet",
        cka="<results>/analysis/branch~{branch}/cka.tsv",
        parametric="<results>/merges/branch~{branch}/parametric_similarity.tsv",
        lang2vec="<results>/analysis/lang2vec.tsv",
        models="<results>/models.tsv",
    output:
        pairs="<results>/analysis/branch~{branch}/pairs.tsv",
        tables=[
            in_report(f"<results>/tables/table8_br{{branch}}.{ext}")
            for ext in captions.FORMATS
        ],
    log:
        "<logs>/analysis/table8_branch/branch~{branch}.log",
    params:
        pairs=list(STUDY.branch_pairs),
        method=STUDY.pair_method,
        step=STUDY.final,
        branch=lambda wc: int(wc.branch),
        captions=TABLE_CAPTIONS,
        n=config["evaluate"]["bootstrap"],
        seed=config["seeds"]["bootstrap"],


rule figure4:
    # Merged-N of every family against its branch step, with and without weight matching,
    # beside the family's own experts and Mixed; the experts' CKA; and the branch table.
    input:
        store="<results>/eval/scores.parquet",
        agg="<results>/eval/aggregate.tsv",
        cka=[branch_cka(b) for b in STUDY.families],
        models="<results>/models.tsv",
    output:
        report(
            "<results>/figures/figure4.png",
            caption="../report/figure4.rst",
            category="Figures",
            labels={"figure": FIGURE4_TITLE},
        ),
        "<results>/figures/figure4.pdf",
        tables=[in_report(path) for path in BRANCH_TABLE],
        # the numbers behind both: family × series × benchmark, mean, SE, CI
        scores="<results>/analysis/branch_scores.tsv",
    log:
        "<logs>/figures/figure4.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        families=STUDY.families,
        languages=STUDY.languages,
        benchmarks=STUDY.benchmarks,
        methods=STUDY.branch_methods,
        mixed=STUDY.mixed,
        step=STUDY.final,
        n=config["evaluate"]["bootstrap"],
        seed=config["seeds"]["bootstrap"],
        acc_norm=config["evaluate"]["acc_norm"],
        captions=TABLE_CAPTIONS,
    script:
        "../../scripts/figure4.py"
