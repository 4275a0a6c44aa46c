"""What the paper-scale jobs cost, estimated in one place: the LUMI profile's limits are
claims about these numbers (tests/test_cost.py holds them to it; docs/cost.md prints the
table, `python tools/cost_table.py`).

An estimate, not a measurement: no GPU of LUMI's kind was available to this project. Training
FLOPs are 6 × parameters × tokens (Kaplan et al. 2020) at an assumed model-FLOPs utilisation
of megatron-core on an MI250X GCD (bf16 peak 191.5 TFLOP/s, AMD's data sheet: 383 TFLOP/s per
two-GCD MI250X). Evaluation: the tokens lm-eval sends for each (benchmark, language) cell at
assumed prefill and generation rates of a 2.15B Llama in bf16 on one GCD with Hugging Face
transformers (no fused attention): prefill 15,000 tokens/s (≈ 35% of 191.5 TFLOP/s at
2 × 2.15e9 FLOPs per token), generation 320 tokens/s (16 sequences × 20 steps/s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import benchmarks
from .megatron.memory import param_count
from .study import Study

#: bf16 dense peak of one MI250X GCD (half of AMD's 383 TFLOP/s per MI250X)
GCD_PEAK_FLOPS = 191.5e12
#: the share of it megatron-core is assumed to reach on a 2.15B Llama (local layer spec)
TRAIN_MFU = 0.35
#: Gemma-3's vocabulary (262,144 entries, already a multiple of 128): the paper's models' embedding
PAPER_VOCAB = 262_144
#: resubmissions allowed beyond those the wall limit needs: a node failure, a file-system stall
SPARE_ATTEMPTS = 2


def pretrain_hours(pretrain: dict, vocab: int = PAPER_VOCAB) -> float:
    """Wall-clock hours of one megatron-core pre-training run (`pretrain` config section)."""
    rec, arch = pretrain["megatron"], pretrain["arch"]
    tokens = pretrain["steps"] * rec["global_batch"] * arch["seq_len"]
    gcds = rec["nodes"] * rec["gpus_per_node"]
    return 6 * param_count(arch, vocab) * tokens / (gcds * GCD_PEAK_FLOPS * TRAIN_MFU) / 3600


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


# --- evaluation: lm-eval's HF backend on one GCD ------------------------------------------

#: the longest input lm-eval passes a model (HFLM `max_length`; longer contexts are cut from
#: the left): the bound the batch estimate below holds for. 5-shot Belebele, the longest
#: prompt of the study, reaches about 2,100 Gemma-3 tokens.
EVAL_MAX_TOKENS = 4096
#: the share of a device's memory an estimate may fill (allocator fragmentation, kernels' workspaces)
DEVICE_HEADROOM = 0.9


def eval_peak_bytes(model_cfg: dict, seq: int, batch: int, dtype_bytes: int) -> int:
    """Peak device memory of one lm-eval log-likelihood batch (lm_eval/models/huggingface.py,
    `_loglikelihood_tokens`): the weights; the logits of every position and their
    log-softmax, batch × length × vocabulary each, in the model's dtype (no `softmax_dtype`);
    one layer's activations and attention scores (eager or math SDPA: batch × heads × length²)."""
    h, v = model_cfg["hidden_size"], model_cfg["vocab_size"]
    arch = {"hidden": h, "ffn": model_cfg["intermediate_size"], "layers": model_cfg["num_hidden_layers"],
            "heads": model_cfg["num_attention_heads"],
            "kv_heads": model_cfg.get("num_key_value_heads") or model_cfg["num_attention_heads"],
            "tie_embeddings": model_cfg.get("tie_word_embeddings", True)}
    weights = param_count(arch, v) * dtype_bytes
    logits = 2 * batch * seq * v * dtype_bytes
    layer = batch * seq * (4 * h + 3 * arch["ffn"]) * dtype_bytes + batch * arch["heads"] * seq * seq * dtype_bytes
    return weights + logits + layer


def eval_seq(model_max: int) -> int:
    """The longest input the harness passes a model whose context is `model_max` tokens."""
    return min(model_max, EVAL_MAX_TOKENS)


def eval_batch(model_cfg: dict, seq: int, configured: int, device_bytes: int, dtype_bytes: int) -> int:
    """The largest batch, up to the configured one, whose estimated peak for an input of
    `seq` tokens (the longest the harness passes) fits the device: lm-eval sorts requests
    longest first and pads each batch to its longest, so the first batch is the one that
    must fit. 0: not even one sequence fits."""
    budget = DEVICE_HEADROOM * device_bytes
    fits = [b for b in range(1, configured + 1) if eval_peak_bytes(model_cfg, seq, b, dtype_bytes) <= budget]
    return max(fits, default=0)


# --- per rule, at paper scale ---------------------------------------------------------------

PREFILL, DECODE = 15_000, 320  # tokens/s on one GCD, assumed (above)
LOAD_S, MERGE_S = 60, 180  # per job: reading 4.3 GB of weights; a ten-model fp16 mergekit merge
# Items per language, requests per item and tokens per request (typical lengths with the
# Gemma-3 tokenizer and the configured few-shot examples): each benchmark's module
# (mergelimits.benchmarks: paper_items, requests, tokens).
FLORES_NEW_TOKENS = 256
#: FLORES devtest through a model for CKA: sentences × max_length tokens
CKA_TOKENS = 1012 * 128
#: seconds per matrix element of one Lanczos spectral norm (similarity.spectral_norm), measured
#: on this project's 2-core machine for a 2048 × 8192 float64 matrix (perf/README.md)
SPECTRAL_S_PER_ELEMENT = 2.9 / (2048 * 8192)
#: seconds per matrix element of the authors' stable rank (similarity.stable_rank_power: a
#: float64 copy and 20 power iterations), measured the same way (perf/README.md)
POWER_S_PER_ELEMENT = 0.72 / (2048 * 8192)
#: tokens/s of megatron_index (HF tokenizers' Rust batch encoding on the job's 16 cores), assumed
INDEX_TOKENS_S = 1_000_000
#: the fetched corpus over what training reads of it (data.hub.corpus.max_files is set with margin)
CORPUS_OVER_BUDGET = 1.5
#: a job's host memory beyond the tensors counted: torch, transformers, lm-eval, datasets and
#: mergekit imported measure 0.4 GB resident (perf/README.md); the rest is lm-eval's requests,
#: datasets' caches and the allocator's slack
RUNTIME_HOST_MB = 2000


def cell_seconds(bench: str) -> float:
    """One (benchmark, language) cell of the evaluation plan; a question-blind control as its
    benchmark (an upper bound: 'blind' drops the context, 'shuffled' swaps in another of
    similar length)."""
    entry = benchmarks.base(bench)
    seconds = entry.paper_items * entry.requests * entry.tokens / PREFILL
    if entry.kind == "generation":
        seconds += entry.paper_items * FLORES_NEW_TOKENS / DECODE
    return seconds


@dataclass(frozen=True)
class Estimate:
    rule: str
    minutes: float  # wall-clock of the rule's largest job
    mem_mb: float  # its peak host memory
    jobs: int
    basis: str  # how, in words


def rule_estimates(cfg: dict, vocab: int = PAPER_VOCAB) -> dict[str, Estimate]:
    """The largest job of every GPU and heavy CPU rule of a paper-shaped config."""
    study = Study.from_config(cfg)
    pre, arch = cfg["pretrain"], cfg["pretrain"]["arch"]
    params = param_count(arch, vocab)
    weights_mb = params * 2 / 1e6  # bf16, as HPLT's checkpoints and the evaluation hold them
    fp32_mb = params * 4 / 1e6
    merged = {m for m, _ in study.merges}
    experts = {(m, study.final) for m in (*study.mono, *study.branched)}
    plans = {"evaluate_model": [], "merge_evaluate": [], "evaluate_expert": []}
    for (model, step), cells in study.eval_plan.items():
        rule = ("merge_evaluate" if model in merged else "evaluate_expert" if (model, step) in experts
                else "evaluate_model")
        plans[rule].append(sum(cell_seconds(b) for b, _ in cells))
    out = {}
    if plans["evaluate_model"]:
        out["evaluate_model"] = Estimate(
            "evaluate_model", (LOAD_S + max(plans["evaluate_model"])) / 60, fp32_mb + RUNTIME_HOST_MB,
            len(plans["evaluate_model"]), "largest evaluation plan (all benchmarks × languages, controls) "
            "at 15k prefill / 320 generated tokens/s; host: the checkpoint read once in fp32 before the move to the GCD")
    if plans["merge_evaluate"]:
        out["merge_evaluate"] = Estimate(
            "merge_evaluate", (LOAD_S + MERGE_S + max(plans["merge_evaluate"])) / 60,
            2 * fp32_mb + RUNTIME_HOST_MB, len(plans["merge_evaluate"]),
            "a Merged-N's merge and its full evaluation plan; host: mergekit's output in fp32 and the model loaded")
    if plans["evaluate_expert"]:
        out["evaluate_expert"] = Estimate(
            "evaluate_expert", (LOAD_S + max(plans["evaluate_expert"]) + 2 * CKA_TOKENS / PREFILL) / 60,
            fp32_mb + RUNTIME_HOST_MB, len(plans["evaluate_expert"]),
            "an expert's evaluation plan, then FLORES devtest (1,012 × 128 tokens, English and its own language) "
            "through it for CKA, hidden states of every layer kept (small)")
    ex = cfg["evaluate"]["flores_examples"]
    if "flores" in study.benchmarks and "decoding" in ex:
        sentences = ex["n"] * len(ex["targets"])
        out["translate_examples"] = Estimate(
            "translate_examples", (LOAD_S + MERGE_S + sentences * ex["decoding"]["max_new_tokens"] / DECODE) / 60,
            2 * fp32_mb + RUNTIME_HOST_MB, len(study.translation_rows),
            f"a Merged-N merged again, then {sentences} sentences decoded to at most "
            f"{ex['decoding']['max_new_tokens']} tokens at {DECODE} tokens/s (the beams decoded as a batch); "
            "host: mergekit's output in fp32 and the model loaded")
    per_layer = 4 * arch["hidden"] ** 2 + 3 * arch["hidden"] * arch["ffn"]
    n_models = len(study.languages)
    # the authors' measures take every tensor, the embeddings the largest
    largest = max(vocab * arch["hidden"], arch["hidden"] * arch["ffn"])
    out["parametric_similarity"] = Estimate(
        "parametric_similarity", (arch["layers"] * per_layer * SPECTRAL_S_PER_ELEMENT * n_models
                                  + params * POWER_S_PER_ELEMENT * n_models
                                  + (n_models + 1) * fp32_mb / 500) / 60,  # read at 500 MB/s
        ((n_models + 1) * 4 + 8) * largest / 1e6 + 3 * 8 * (1 << 22) * (n_models + 1) / 1e6 + RUNTIME_HOST_MB, 1,
        "a Lanczos spectral norm of every layer matrix and 20 power iterations of every matrix of each expert (2 "
        "cores' measured rates), every model read once; host: the largest tensor (the embeddings) of every model at "
        "once in fp32, a float64 copy of one, and the Gram slices")
    if pre.get("engine") == "megatron" and "megatron" in pre:
        rec = pre["megatron"]
        usable = rec["wall_min"] - rec.get("exit_margin_min", 0)
        out["pretrain_megatron"] = Estimate(
            "pretrain_megatron", min(pretrain_hours(pre, vocab) * 60, usable), 0, pretrain_jobs(pre, vocab),
            f"6 × {params / 1e9:.2f}e9 × tokens at {TRAIN_MFU:.0%} of a GCD's bf16 peak on "
            f"{rec['nodes'] * rec['gpus_per_node']} GCDs; each job stops itself {rec.get('exit_margin_min', 0)} min "
            "before its wall limit (whole nodes: memory is the node's)")
        tokens = pre["steps"] * rec["global_batch"] * arch["seq_len"] / len(study.languages) * CORPUS_OVER_BUDGET
        out["megatron_index"] = Estimate(
            "megatron_index", tokens / INDEX_TOKENS_S / 60, 4000 + RUNTIME_HOST_MB, len(study.languages),
            f"one language's corpus ({CORPUS_OVER_BUDGET} × its share of Mixed's tokens) tokenised at "
            f"{INDEX_TOKENS_S / 1e6:.0f}M tokens/s, streamed a batch of documents at a time")
        out["export_megatron"] = Estimate(
            "export_megatron", (2 * fp32_mb / 500 + 120) / 60, 2 * fp32_mb + RUNTIME_HOST_MB, len(pre["checkpoints"]),
            "a distributed checkpoint read and written as one Hugging Face file: the weights twice in fp32")
    if pre.get("init") == "megatron":
        out["init_model"] = Estimate(
            "init_model", (300 + fp32_mb / 500) / 60, 2 * fp32_mb + RUNTIME_HOST_MB, 1,
            "megatron-core builds step 0 on one GCD and exports it: the weights twice in fp32 on the host")
    if pre.get("monolingual") == "hplt":
        out["fetch_hplt_checkpoint"] = Estimate(
            "fetch_hplt_checkpoint", (weights_mb / 50 + 120) / 60, 2 * weights_mb + RUNTIME_HOST_MB,
            len(study.languages) * len(study.steps),
            "pytorch_model.bin (bf16) downloaded at 50 MB/s, loaded and written as safetensors: twice the weights "
            "(on the login node)")
    return out
