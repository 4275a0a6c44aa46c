# mergelimits: rebuilds "On the Limits of Model Merging for Multilinguality in
# Pre-Training" end to end. Default: the tiny study (config/config.yaml); the full study:
#   snakemake --configfile config/paper.yaml --profile profiles/lumi
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
