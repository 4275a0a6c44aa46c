"""Put the tiny study's results (written by its `summary` rule) into README.md.

    .venv/bin/python tools/readme_results.py [results/tiny]

Replaces the text between the README's results markers with `<results>/summary.md` and
copies Figures 1 and 4 to docs/; `make study` runs it after the workflow.
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
    for name in ("figure1", "figure4"):  # Figure 4: where the config branches experts
        if (results_dir / "figures" / f"{name}.png").exists():
            shutil.copyfile(results_dir / "figures" / f"{name}.png", ROOT / "docs" / f"{name}.png")
    print(f"README.md: results from {results_dir / 'summary.md'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
