"""GPU-hours of the paper rebuilt from published weights (config/paper-published.yaml over
config/paper.yaml): every evaluation and merge of its DAG, at stated per-item costs.

    .venv/bin/python perf/published_cost.py

An estimate, not a measurement: no GPU of LUMI's kind was available to this project. The
jobs come from the study's design (`Study.eval_plan`, what the dry run schedules); the cost
of each evaluated (benchmark, language) cell from the tokens lm-eval sends for it and the
throughput assumed below for a 2.15B Llama in bf16 on one MI250X GCD with Hugging Face
transformers (no fused attention): prefill 15,000 tokens/s (≈ 35% of a GCD's 191 TFLOP/s at
2 × 2.15e9 FLOPs per token), generation 320 tokens/s (16 sequences × 20 steps/s).
"""

from pathlib import Path

import yaml
from snakemake.utils import update_config

from mergelimits.cost import LOAD_S, MERGE_S, PER_ITEM, PREFILL, cell_seconds
from mergelimits.study import Study

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    cfg: dict = {}
    for name in ("paper.yaml", "paper-published.yaml"):
        update_config(cfg, yaml.safe_load((ROOT / "config" / name).read_text()))
    study = Study.from_config(cfg)
    merged = {m for m, _ in study.merges}
    rows = {"merge_evaluate": [0, 0.0], "evaluate_model": [0, 0.0], "compare_published_merge": [0, 0.0]}
    for (model, _step), cells in study.eval_plan.items():
        rule = "merge_evaluate" if model in merged else "evaluate_model"
        rows[rule][0] += 1
        rows[rule][1] += LOAD_S + (MERGE_S if rule == "merge_evaluate" else 0) + sum(cell_seconds(b) for b, _ in cells)
    rows["compare_published_merge"] = [len(study.published_merges), len(study.published_merges) * (MERGE_S + LOAD_S)]
    # CKA's activations: one forward pass over FLORES devtest (1,012 sentences ≤ 128 tokens)
    rows["activations"] = [len(study.mono), len(study.mono) * (LOAD_S + 1012 * 128 / PREFILL)]
    total = 0.0
    for rule, (jobs, seconds) in rows.items():
        total += seconds
        print(f"{rule:26s}{jobs:>5} jobs {seconds / 3600:8.1f} GCD-hours")
    print(f"{'total':26s}{sum(r[0] for r in rows.values()):>5} jobs {total / 3600:8.1f} GCD-hours "
          "(one MI250X GCD, an eighth of a LUMI-G node, per job)")
    for bench in PER_ITEM:
        print(f"  one {bench} cell: {cell_seconds(bench) / 60:.1f} min")


if __name__ == "__main__":
    main()
