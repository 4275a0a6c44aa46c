"""Put the tiny study's results (written by its `summary` rule) into README.md.

    .venv/bin/python tools/readme_results.py [results/tiny]

Replaces the text between the README's results markers with `<results>/summary.md` and
copies Figure 1 to docs/figure1.png; `make study` runs it after the workflow.
"""

import shutil
import sys
from pathlib import Path

from mergelimits import summary

ROOT = Path(__file__).resolve().parents[1]


def main(results: str = "results/tiny") -> None:
    results_dir = ROOT / results
    readme = ROOT / "README.md"
    block = (results_dir / "summary.md").read_text(encoding="utf-8")
    readme.write_text(summary.splice(readme.read_text(encoding="utf-8"), block), encoding="utf-8")
    shutil.copyfile(results_dir / "figures" / "figure1.png", ROOT / "docs" / "figure1.png")
    print(f"README.md: results from {results_dir / 'summary.md'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
