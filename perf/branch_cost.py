"""GCD-hours of the branch ablation on the paper config (config/paper-branch.yaml over
config/paper.yaml): the branched experts' continued pre-training, then the merges,
evaluations and activation passes it adds to the paper's DAG.

    .venv/bin/python perf/branch_cost.py

An estimate, not a measurement (no LUMI GPU was available to this project). Training:
6 × parameters × tokens FLOPs at an assumed 35% of an MI250X GCD's 191.5 bf16 TFLOP/s
(megatron-core, bf16, distributed optimizer); evaluations and merges: the per-cell costs of
mergelimits.cost, for the (model, step) cells the ablation adds to the evaluation plan.
"""

from pathlib import Path

import yaml
from snakemake.utils import update_config

from mergelimits.cost import GCD_PEAK_FLOPS, LOAD_S, MERGE_S, PAPER_VOCAB, PREFILL, TRAIN_MFU, cell_seconds
from mergelimits.megatron.memory import param_count
from mergelimits.study import Study

ROOT = Path(__file__).resolve().parents[1]
GCD_FLOPS = TRAIN_MFU * GCD_PEAK_FLOPS


def load(*names: str) -> dict:
    cfg: dict = {}
    for name in names:
        update_config(cfg, yaml.safe_load((ROOT / "config" / name).read_text()))
    return cfg


def main() -> None:
    base = Study.from_config(load("paper.yaml"))
    cfg = load("paper.yaml", "paper-branch.yaml")
    study = Study.from_config(cfg)
    pre = cfg["pretrain"]
    PARAMS = param_count(pre["arch"], PAPER_VOCAB)  # noqa: N806
    per_step = pre["megatron"]["global_batch"] * pre["arch"]["seq_len"]
    mixed_h = 6 * PARAMS * pre["steps"] * per_step / GCD_FLOPS / 3600
    train_h = sum(6 * PARAMS * (pre["steps"] - b) * per_step / GCD_FLOPS / 3600 for b in study.branch_steps
                  for _ in study.languages)
    merged = {m for m, _ in study.merges}
    added = {k: v for k, v in study.eval_plan.items() if k not in base.eval_plan}
    eval_s = sum(LOAD_S + (MERGE_S if model in merged else 0) + sum(cell_seconds(b) for b, _ in cells)
                 for (model, _), cells in added.items())
    act_s = len(study.branched) * (LOAD_S + 1012 * 128 / PREFILL)
    print(f"Mixed10 pre-training, for scale        {mixed_h:9.0f} GCD-hours")
    print(f"branched experts: {len(study.branched):3d} runs from steps {list(study.branch_steps)}"
          f" {train_h:9.0f} GCD-hours")
    print(f"merges and evaluations added: {len(added):3d} jobs  {eval_s / 3600:9.0f} GCD-hours")
    print(f"activation passes added:      {len(study.branched):3d} jobs  {act_s / 3600:9.1f} GCD-hours")
    total = train_h + (eval_s + act_s) / 3600
    print(f"total                                  {total:9.0f} GCD-hours ({total / 8:.0f} LUMI-G node-hours)")


if __name__ == "__main__":
    main()
