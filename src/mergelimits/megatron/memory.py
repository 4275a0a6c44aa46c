"""Peak memory per device of a Megatron run, estimated before the first step.

The activation terms follow Korthikanti et al. (2022), "Reducing Activation Recomputation
in Large Transformer Models", §4 (34·s·b·h + 5·a·s²·b bytes per layer with fp16/bf16
activations), redone for this architecture: SwiGLU MLP of width `ffn`, grouped-query
attention, no dropout (the HPLT recipe: no dropout masks), and the local layer spec's
unfused attention, which keeps the bf16 scores and their fp32 softmax (6 bytes per score)
unless core attention is recomputed (`recompute: selective`) or fused (flash attention).
The logits of the last layer and their fp32 cross-entropy are counted too: with Gemma-3's
262k vocabulary they weigh as much as several layers.

Weights and optimizer: bf16 parameters (2 B), fp32 gradient buffer (grad_reduce_in_fp32,
4 B), and fp32 main weights plus Adam's two moments (12 B) sharded over the data-parallel
ranks by the distributed optimizer.
"""

from __future__ import annotations

GIB = 1024**3


class DoesNotFit(Exception):
    """A configuration whose estimated peak exceeds the device's memory."""


def layer_options(recipe: dict) -> dict:
    """TransformerConfig options that decide the activation memory: dropout (the HPLT
    recipe has none) and selective recomputation of core attention."""
    opts = {"hidden_dropout": recipe.get("dropout", 0.0), "attention_dropout": recipe.get("dropout", 0.0)}
    if recipe.get("recompute", "selective") == "selective":
        opts["recompute_granularity"] = "selective"  # recompute_modules defaults to core_attn
    return opts


def param_count(arch: dict, vocab: int) -> int:
    h, f, layers = arch["hidden"], arch["ffn"], arch["layers"]
    kv = arch.get("kv_heads", arch["heads"]) * h // arch["heads"]
    per_layer = h * (h + 2 * kv) + h * h + 3 * h * f + 2 * h
    emb = vocab * h * (1 if arch.get("tie_embeddings", True) else 2)
    return layers * per_layer + emb + h


def estimate(arch: dict, recipe: dict, vocab: int, dp: int) -> dict:
    """Bytes per device, by part."""
    s, b, h, f, a = arch["seq_len"], recipe["micro_batch"], arch["hidden"], arch["ffn"], arch["heads"]
    kv_frac = arch.get("kv_heads", a) / a
    bf16 = recipe.get("bf16", True)
    act = 2 if bf16 else 4  # bytes of one activation
    p = param_count(arch, vocab)
    sbh = s * b * h
    # attention: norm input, QKV input, Q/K/V, context (linear_proj input)
    attn = sbh * act * (1 + 1 + (1 + 2 * kv_frac) + 1)
    # MLP: norm input, fc1 input, fc1 output (gate and up), SwiGLU output (fc2 input)
    mlp = sbh * act * 2 + s * b * f * act * 3
    fused = recipe.get("attention") == "flash"
    core = 0 if fused or layer_options(recipe).get("recompute_granularity") == "selective" else a * s * s * b * (act + 4)
    layers = arch["layers"] * (attn + mlp + core)
    logits = s * b * vocab * (act + 4)  # logits, and their fp32 copy in the cross-entropy
    parts = {
        "weights": p * act,
        "gradients": p * 4,
        "optimizer": p * 12 // dp,
        # no pipelining: one micro-batch's activations live at a time
        "activations": layers + logits,
    }
    parts["total"] = sum(parts.values())
    return parts


def data_parallel_size(recipe: dict) -> int:
    """Ranks that each hold a whole model replica: every GCD of the run over TP × PP."""
    return recipe["nodes"] * recipe["gpus_per_node"] // (recipe.get("tp", 1) * recipe.get("pp", 1))


def configured_bytes(recipe: dict) -> int:
    """The device the recipe is planned for: `device_memory_gb` (64: one MI250X GCD)."""
    return int(recipe.get("device_memory_gb", 64) * GIB)


def device_bytes(recipe: dict) -> int:
    """The device's memory: the GPU's own where there is one, else the configured size."""
    import torch  # the Snakefile imports this module (config, cost): torch only in the training job

    if torch.cuda.is_available():
        return torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    return configured_bytes(recipe)


def check(arch: dict, recipe: dict, vocab: int, dp: int, available: int, headroom: float = 0.9) -> dict:
    """The estimate, or DoesNotFit naming the keys that shrink it."""
    parts = estimate(arch, recipe, vocab, dp)
    if parts["total"] > headroom * available:
        raise DoesNotFit(
            f"pretrain.megatron: estimated peak {describe(parts)} exceeds {headroom:.0%} of the device's "
            f"{available / GIB:.1f} GiB; lower pretrain.megatron.micro_batch, set pretrain.megatron.recompute: "
            "selective, or raise pretrain.megatron.nodes (more data-parallel ranks shard the optimizer)")
    return parts


def describe(parts: dict) -> str:
    unit, size = ("GiB", GIB) if parts["total"] >= GIB else ("MiB", 1024**2)
    return f"{parts['total'] / size:.2f} {unit} (" + ", ".join(
        f"{k} {v / size:.2f}" for k, v in parts.items() if k != "total") + ")"
