# What every stage's tables need to enter `snakemake --report`: their captions and labels.


# Each table's caption (captions.captions): written into its files and shown in the report.
TABLE_CAPTIONS = captions.captions(
    config["study"],
    STUDY.benchmarks,
    STUDY.final,
    config["evaluate"]["bootstrap"],
    config["seeds"]["bootstrap"],
    STUDY.pair_method,
    len(STUDY.pairs),
    config["evaluate"]["flores_examples"],
    STUDY.branch_steps,
    len(STUDY.branch_pairs),
    config["evaluate"]["acc_norm"],
    config["evaluate"]["flores"].get("sampling"),
)


def in_report(path):
    """A table's HTML is shown inline in `snakemake --report`, its CSV is there to download;
    both under the table's own caption (workflow/report/tables/<stem>.rst renders it from
    the rule's params) and labelled with its name, which the report's search finds."""
    stem, ext = Path(path).stem, Path(path).suffix[1:]
    if ext not in ("html", "csv"):
        return path
    # a branch family's Table 8 ({branch} still a wildcard): one caption file for all
    caption = "table8_branch" if stem.startswith("table8_br") else stem
    return report(
        path,
        caption=f"../report/tables/{caption}.rst",
        category="Tables" if ext == "html" else "Tables (CSV, unrounded)",
        labels={
            "table": (
                "Table 8, branched at {branch} — Δ vs similarity"
                if caption != stem
                else captions.caption_name(TABLE_CAPTIONS[stem])
            ),
            "format": ext.upper(),
        },
    )
