"""mergelimits: the logic behind the workflow that rebuilds *On the Limits of Model Merging
for Multilinguality in Pre-Training*. The Snakemake rules call thin scripts over this package."""

__version__ = "0.1.0"
