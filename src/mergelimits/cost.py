"""What the paper-scale jobs cost, estimated in one place: the Slurm limits are claims about
these numbers (docs/slurm.md).

An estimate, not a measurement: no GPU of LUMI's kind was available to this project. Training
FLOPs are 6 × parameters × tokens (Kaplan et al. 2020) at an assumed model-FLOPs utilisation
of megatron-core on an MI250X GCD (bf16 peak 191.5 TFLOP/s, AMD's data sheet: 383 TFLOP/s per
two-GCD MI250X).
"""

from __future__ import annotations

import math

#: bf16 dense peak of one MI250X GCD (half of AMD's 383 TFLOP/s per MI250X)
GCD_PEAK_FLOPS = 191.5e12
#: the share of it megatron-core is assumed to reach on a 2.15B Llama (local layer spec)
TRAIN_MFU = 0.35
#: Gemma-3's vocabulary (262,144 entries, already a multiple of 128): the paper's models' embedding
PAPER_VOCAB = 262_144
#: resubmissions allowed beyond those the wall limit needs: a node failure, a file-system stall
SPARE_ATTEMPTS = 2


def llama_params(arch: dict, vocab: int = PAPER_VOCAB) -> int:
    """Parameters of the configured Llama: attention (q, k, v, o), SwiGLU MLP, two norms a
    layer, the final norm, one embedding matrix (two when not tied)."""
    h, ffn, layers = arch["hidden"], arch["ffn"], arch["layers"]
    kv = h * arch.get("kv_heads", arch["heads"]) // arch["heads"]
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * ffn + 2 * h
    embeddings = vocab * h * (1 if arch.get("tie_embeddings", True) else 2)
    return layers * per_layer + h + embeddings


def pretrain_hours(pretrain: dict, vocab: int = PAPER_VOCAB) -> float:
    """Wall-clock hours of one megatron-core pre-training run (`pretrain` config section)."""
    rec, arch = pretrain["megatron"], pretrain["arch"]
    tokens = pretrain["steps"] * rec["global_batch"] * arch["seq_len"]
    gcds = rec["nodes"] * rec["gpus_per_node"]
    return 6 * llama_params(arch, vocab) * tokens / (gcds * GCD_PEAK_FLOPS * TRAIN_MFU) / 3600


def pretrain_jobs(pretrain: dict, vocab: int = PAPER_VOCAB) -> int:
    """Wall-limited Slurm jobs one run needs: each stops `exit_margin_min` before `wall_min`."""
    rec = pretrain["megatron"]
    usable_h = (rec["wall_min"] - rec.get("exit_margin_min", 0)) / 60
    return max(1, math.ceil(pretrain_hours(pretrain, vocab) / usable_h))


def pretrain_retries(pretrain: dict, vocab: int = PAPER_VOCAB) -> int:
    """The pre-training rule's `retries`: a resubmission per further wall-limited job, and
    SPARE_ATTEMPTS for failures. A crash that made no progress is not retried past one
    attempt (train_gpt.check_progress), so the spares never rerun a real bug ten times."""
    return pretrain_jobs(pretrain, vocab) - 1 + SPARE_ATTEMPTS
