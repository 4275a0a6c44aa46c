"""Weights between megatron-core's GPTModel (local layer spec) and Hugging Face Llama.

Megatron keeps q, k and v in one matrix, grouped by key-value head: for each group, its
query heads' rows, then its key rows, then its value rows. SwiGLU's gate and up
projections are one matrix, gate first. Both models apply rotary embeddings to the
two halves of each head (HF's rotate_half; Megatron's non-interleaved), so no permutation
is needed. The logits-equality tests (tests/test_megatron.py) hold these facts to 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import torch
from megatron.core import dist_checkpointing
from transformers import LlamaForCausalLM

from ..model import llama_config
from ..tokenizer import load as load_tokenizer
from . import cpu_compat
from .model import gpt_model


def _dims(arch: dict):
    heads, groups = arch["heads"], arch.get("kv_heads", arch["heads"])
    return heads, groups, arch["hidden"] // heads


def megatron_to_hf(sd: dict, arch: dict) -> dict[str, torch.Tensor]:
    heads, groups, hd = _dims(arch)
    per = heads // groups
    hidden, ffn = arch["hidden"], arch["ffn"]
    out = {"model.embed_tokens.weight": sd["embedding.word_embeddings.weight"],
           "model.norm.weight": sd["decoder.final_layernorm.weight"]}
    if "output_layer.weight" in sd and not arch.get("tie_embeddings", True):
        out["lm_head.weight"] = sd["output_layer.weight"]
    for i in range(arch["layers"]):
        m, h = f"decoder.layers.{i}.", f"model.layers.{i}."
        qkv = sd[m + "self_attention.linear_qkv.weight"].view(groups, (per + 2) * hd, hidden)
        out[h + "self_attn.q_proj.weight"] = qkv[:, : per * hd].reshape(heads * hd, hidden)
        out[h + "self_attn.k_proj.weight"] = qkv[:, per * hd : (per + 1) * hd].reshape(groups * hd, hidden)
        out[h + "self_attn.v_proj.weight"] = qkv[:, (per + 1) * hd :].reshape(groups * hd, hidden)
        out[h + "self_attn.o_proj.weight"] = sd[m + "self_attention.linear_proj.weight"]
        fc1 = sd[m + "mlp.linear_fc1.weight"]
        out[h + "mlp.gate_proj.weight"], out[h + "mlp.up_proj.weight"] = fc1[:ffn], fc1[ffn:]
        out[h + "mlp.down_proj.weight"] = sd[m + "mlp.linear_fc2.weight"]
        # The transformer-engine spec fuses the norms into the following linear layer.
        out[h + "input_layernorm.weight"] = sd.get(m + "input_layernorm.weight",
                                                   sd.get(m + "self_attention.linear_qkv.layer_norm_weight"))
        out[h + "post_attention_layernorm.weight"] = sd.get(m + "pre_mlp_layernorm.weight",
                                                            sd.get(m + "mlp.linear_fc1.layer_norm_weight"))
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def hf_to_megatron(sd: dict, arch: dict) -> dict[str, torch.Tensor]:
    heads, groups, hd = _dims(arch)
    per = heads // groups
    hidden = arch["hidden"]
    out = {"embedding.word_embeddings.weight": sd["model.embed_tokens.weight"],
           "decoder.final_layernorm.weight": sd["model.norm.weight"]}
    if not arch.get("tie_embeddings", True):
        out["output_layer.weight"] = sd["lm_head.weight"]
    for i in range(arch["layers"]):
        m, h = f"decoder.layers.{i}.", f"model.layers.{i}."
        q = sd[h + "self_attn.q_proj.weight"].view(groups, per * hd, hidden)
        k = sd[h + "self_attn.k_proj.weight"].view(groups, hd, hidden)
        v = sd[h + "self_attn.v_proj.weight"].view(groups, hd, hidden)
        out[m + "self_attention.linear_qkv.weight"] = torch.cat([q, k, v], dim=1).reshape(-1, hidden)
        out[m + "self_attention.linear_proj.weight"] = sd[h + "self_attn.o_proj.weight"]
        out[m + "mlp.linear_fc1.weight"] = torch.cat([sd[h + "mlp.gate_proj.weight"], sd[h + "mlp.up_proj.weight"]])
        out[m + "mlp.linear_fc2.weight"] = sd[h + "mlp.down_proj.weight"]
        out[m + "input_layernorm.weight"] = sd[h + "input_layernorm.weight"]
        out[m + "pre_mlp_layernorm.weight"] = sd[h + "post_attention_layernorm.weight"]
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def load_into_megatron(model, hf_state: dict, arch: dict) -> None:
    """Copy an HF state dict into a GPTModel; every Megatron weight must be covered."""
    sd = hf_to_megatron(hf_state, arch)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("_extra_state")
               and not (k == "output_layer.weight" and arch.get("tie_embeddings", True))]
    if missing or unexpected:
        raise ValueError(f"conversion does not cover the model: missing {missing}, unexpected {unexpected}")


def save_hf(megatron_state: dict, arch: dict, vocab_size: int, tokenizer_dir, out_dir) -> None:
    """Write a Megatron model's weights as a Hugging Face Llama checkpoint (safetensors)."""
    tok = load_tokenizer(tokenizer_dir)
    cfg = llama_config(arch, vocab_size, tok)
    cfg.vocab_size = vocab_size
    hf = LlamaForCausalLM(cfg)
    hf.load_state_dict(megatron_to_hf(megatron_state, arch), strict=not cfg.tie_word_embeddings)
    hf.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)


def export_dist_checkpoint(ckpt_dir, arch: dict, vocab_size: int, tokenizer_dir, out_dir) -> None:
    """A Megatron dist checkpoint (any parallel layout) as a Hugging Face checkpoint.

    Runs as one process on a CPU node: dist_checkpointing reshards to TP=PP=1 on load.
    """
    ckpt_dir = Path(ckpt_dir)
    if not (ckpt_dir / "metadata.json").exists():
        raise FileNotFoundError(f"no Megatron dist checkpoint in {ckpt_dir} (metadata.json missing)")
    cpu_compat.init_single_process()
    model = gpt_model(arch, vocab_size, use_cpu_initialization=True)
    state = dist_checkpointing.load({"model": model.sharded_state_dict()}, str(ckpt_dir))
    model.load_state_dict(state["model"])
    save_hf(model.state_dict(), arch, vocab_size, tokenizer_dir, out_dir)
