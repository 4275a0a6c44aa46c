# The branch stage's input functions and paths (branch.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def branch_cka(branch):
    """A family's CKA table: the paper's experts' own, or the branched family's."""
    if branch == 0:
        return "<results>/analysis/cka.tsv"
    return f"<results>/analysis/branch~{branch}/cka.tsv"
