# mergelimits: rebuilds "On the Limits of Model Merging for Multilinguality in
# Pre-Training" end to end. Default: the tiny study (config/config.yaml); the full study:
#   snakemake --configfile config/paper.yaml --profile profiles/lumi
import os

from snakemake.utils import min_version

# Path variables (<results>, <logs>, <benchmarks>) came with Snakemake 9.12.
min_version("9.12")


# The tiny study unless --configfile names another: a config replaces it whole rather
# than merging into it, so no tiny-study key leaks into the paper run.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# Cluster profiles name the image every job runs in (profiles/lumi: $MERGELIMITS_ENV/image.sif,
# environment variables expanded here).
CONTAINER = os.path.expandvars(config["container"]) if config.get("container") else None
if CONTAINER:

    container: CONTAINER


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"


# One training engine: torch on a laptop, megatron-core on LUMI (pretrain.engine).
if config["pretrain"]["engine"] == "torch":

    include: "workflow/rules/pretrain_torch.smk"

else:

    include: "workflow/rules/pretrain_megatron.smk"


include: "workflow/rules/merge.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


if STUDY.branch_steps:  # beyond the paper: experts branched from Mixed

    include: "workflow/rules/branch.smk"


# The front page of `snakemake --report`: the study, its config, and the map to the paper.
report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.pretrain.input,
        rules.merge.input,
        rules.tables.input,
        rules.analysis.input,
        rules.figures.input,
        rules.provenance.output,
        BRANCH_OUTPUTS,
