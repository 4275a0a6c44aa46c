"""Where a run's numbers came from: the resolved config, the code's commit and the versions
of the software that computed them, as `snakemake --report` shows them (rule `provenance`,
and the report's front page, workflow/report/workflow.rst)."""

from __future__ import annotations

import html
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

#: the packages whose versions decide the study's numbers (the rest follow from their pins)
KEY_PACKAGES = (
    "torch", "transformers", "tokenizers", "mergekit", "lm_eval", "megatron-core", "sacrebleu", "numpy", "pandas",
    "scipy", "datasets", "huggingface_hub", "lang2vec", "snakemake", "snakemake-executor-plugin-slurm",
    "snakemake-executor-plugin-slurm-jobstep", "mergelimits",
)


def versions(packages=KEY_PACKAGES) -> dict[str, str]:
    """Installed version of each package; "not installed" rather than an error, since a
    missing optional package is itself worth reporting."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(root: str | Path) -> str:
    """The checkout's commit, "+ uncommitted changes" when its tracked files differ from
    it; "unknown (not a git checkout)" for a copy without .git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if dirty else commit


def page(study: str, configfiles: list[str], commit: str, versions: dict[str, str], config: dict) -> str:
    """A standalone HTML page of one run's provenance; nothing in it changes between two runs
    of the same code and config (no dates: the report's front page has the report's)."""
    rows = "\n".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in versions.items())
    seeds = ", ".join(f"{k} {v}" for k, v in config.get("seeds", {}).items())
    resolved = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Provenance — {html.escape(study)}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 1em; }} td {{ padding: 0.15em 0.8em; }}
pre {{ background: #f6f6f6; padding: 0.8em; font-size: 0.85em; }}</style></head>
<body>
<h2>Provenance — study {html.escape(study)}</h2>
<p>Config files: {html.escape(", ".join(configfiles))}<br>
Workflow commit: <code>{html.escape(commit)}</code><br>
Seeds: {html.escape(seeds)}</p>
<h3>Software (installed versions, read by the run)</h3>
<table><thead><tr><th>package</th><th>version</th></tr></thead><tbody>
{rows}
</tbody></table>
<h3>Resolved config</h3>
<pre>{html.escape(resolved)}</pre>
</body></html>
"""
