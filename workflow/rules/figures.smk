# Figures 1-3 and the CKA heat map, from stored tables only: forcing them touches no model.


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
localrules:
    make_figures,


rule figures:
    input:
        FIGURES,


rule make_figures:
    input:
        agg="<results>/eval/aggregate.tsv",
        pairs="<results>/analysis/pairs.tsv",
        table8="<results>/tables/table8.csv",
        cka="<results>/analysis/cka.tsv",
        order="<results>/merges/successive_order.json",
    output:
        [
            report(
                f"<results>/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Figures",
            )
            for name in FIGURE_NAMES
        ],
        [f"<results>/figures/{name}.pdf" for name in FIGURE_NAMES],
    log:
        "<logs>/figures/make_figures.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        languages=LANGS,
        mixed=MIXED,
        merged={
            label: model for label, model in TABLE_ROWS if model not in ("mono", MIXED)
        },
        succ_method=config["merge"]["successive"]["methods"][0],
    script:
        "../../scripts/make_figures.py"
