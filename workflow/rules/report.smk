# What `snakemake --report` shows beyond the tables and figures: the run's provenance; and
# the study's model catalog, which the tables and figures read. The
# report's front page, workflow/report/workflow.rst, reads the config files and commit from
# this rule's params (--report-metadata is not used: docs/analysis.md says why).


localrules:
    model_catalog,
    provenance,


rule model_catalog:
    # The study's models, one row each (mergelimits.catalog): what the analyses, figures and
    # tables look models up in. Rewritten when the design changes (the rows are params).
    output:
        "<results>/models.tsv",
    log:
        "<logs>/report/model_catalog.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        rows=STUDY.catalog(),
    script:
        "../../scripts/model_catalog.py"


rule provenance:
    # Reruns when the config, the commit or an installed version changes (all are params).
    output:
        page=report(
            "<results>/provenance/provenance.html",
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"name": "Provenance — config, commit, software"},
        ),
        config="<results>/provenance/config.yaml",
        versions="<results>/provenance/versions.tsv",
    log:
        "<logs>/report/provenance.log",
    conda:
        "../../envs/mergelimits.yaml"
    params:
        study=config["study"],
        config=config,
        configfiles=[str(f) for f in workflow.configfiles],
        commit=provenance.git_commit(workflow.basedir),
        versions=provenance.versions(),
    script:
        "../../scripts/provenance.py"
