"""Put the tiny study's results (written by its `summary` rule) into docs/results.md, and
their headline into README.md.

    .venv/bin/python tools/readme_results.py [results/tiny]

Replaces the text between the results markers of docs/results.md with `<results>/summary.md`
and between the README's with its first table and reading (`summary.headline`), and copies
Figures 1 and 4 to docs/; `make study` runs it after the workflow.
"""

import shutil
import sys
from pathlib import Path

from mergelimits import summary

ROOT = Path(__file__).resolve().parents[1]


def main(results: str = "results/tiny") -> None:
    results_dir = ROOT / results
    block = (results_dir / "summary.md").read_text(encoding="utf-8")
    for doc, text in ((ROOT / "docs/results.md", block), (ROOT / "README.md", summary.headline(block))):
        doc.write_text(summary.splice(doc.read_text(encoding="utf-8"), text), encoding="utf-8")
    for name in ("figure1", "figure4"):  # Figure 4: where the config branches experts
        if (results_dir / "figures" / f"{name}.png").exists():
            shutil.copyfile(results_dir / "figures" / f"{name}.png", ROOT / "docs" / f"{name}.png")
    print(f"docs/results.md and README.md: results from {results_dir / 'summary.md'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
