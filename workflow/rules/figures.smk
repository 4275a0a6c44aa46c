# Figures 1-3 and the CKA heat map, from stored tables only: forcing them touches no model.


# Beyond the paper: the branch families' Figure 4, branch table and Tables 8.
BRANCH_TABLE = [
    f"<results>/tables/{captions.BRANCH_TABLE}.{ext}" for ext in captions.FORMATS
]

BRANCH_OUTPUTS = (
    [
        *(f"<results>/figures/figure4.{ext}" for ext in ("png", "pdf")),
        *BRANCH_TABLE,
        *(
            f"<results>/tables/table8_br{b}.{ext}"
            for b in STUDY.branch_steps
            for ext in captions.FORMATS
            if STUDY.branch_pairs
        ),
    ]
    if STUDY.branch_steps
    else []
)


# The figures' names in the report (its labels, which its search finds).
FIGURE_TITLES = {
    "figure1": "Figure 1 — MultiBLiMP across training, Mixed vs Merged",
    "figure2": "Figure 2 — successive merges",
    "figure3": "Figure 3 — Δ vs CKA",
    "cka_heatmap": "CKA heat map — similarity of the experts",
}
FIGURE_NAMES = list(FIGURE_TITLES)
FIGURES = [
    f"<results>/figures/{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "pdf")
]


# Seconds of work even at paper scale: on a cluster they run where Snakemake runs rather
# than wait in a queue for a node.
localrules:
    make_figures,
    summary,


rule figures:
    input:
        FIGURES,
        "<results>/summary.md",


rule make_figures:
    input:
        agg="<results>/eval/aggregate.tsv",
        pairs="<results>/analysis/pairs.tsv",
        table8="<results>/tables/table8.csv",
        cka="<results>/analysis/cka.tsv",
        order="<results>/merges/successive_order.json",
        models="<results>/models.tsv",
    output:
        [
            report(
                f"<results>/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Figures",
                labels={"figure": FIGURE_TITLES[name]},
            )
            for name in FIGURE_NAMES
        ],
        [f"<results>/figures/{name}.pdf" for name in FIGURE_NAMES],
    log:
        "<logs>/figures/make_figures.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        languages=STUDY.languages,
        mixed=STUDY.mixed,
        merged=dict(STUDY.merged_all_rows),
        succ_method=config["merge"]["successive"]["methods"][0],
        pair_method=STUDY.pair_method,
        step=STUDY.final,
        n_pairs=len(STUDY.pairs),
        multiblimp_items=config["data"]
        .get("generated", {})
        .get("items", {})
        .get("multiblimp"),
    script:
        "../../scripts/make_figures.py"


rule summary:
    # The headline numbers in Markdown, from the tables: what the README shows.
    input:
        **({"controls": "<results>/tables/controls.csv"} if STUDY.has_controls else {}),
        **(
            {
                "branch": f"<results>/tables/{captions.BRANCH_TABLE}.csv",
                "branch_scores": "<results>/analysis/branch_scores.tsv",
            }
            if STUDY.branch_steps
            else {}
        ),
        table1="<results>/tables/table1.csv",
        table8="<results>/tables/table8.csv",
        pairs="<results>/analysis/pairs.tsv",
    output:
        "<results>/summary.md",
    log:
        "<logs>/figures/summary.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        study=config["study"],
        step=STUDY.final,
    script:
        "../../scripts/summary.py"
