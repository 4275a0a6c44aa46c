"""The study's Llama architecture as a megatron-core GPTModel.

Flags follow the HPLT recipe on AMD: no RoPE fusion, no gradient-accumulation fusion, no
masked-softmax fusion (their kernels are CUDA-only or unstable on ROCm).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
from megatron.core.models.gpt.gpt_model import GPTModel
from megatron.core.transformer.transformer_config import TransformerConfig


def transformer_config(arch: dict, bf16: bool = False, **overrides):
    return TransformerConfig(
        num_layers=arch["layers"],
        hidden_size=arch["hidden"],
        ffn_hidden_size=arch["ffn"],
        num_attention_heads=arch["heads"],
        num_query_groups=arch.get("kv_heads", arch["heads"]),
        normalization="RMSNorm",
        layernorm_epsilon=1e-5,
        gated_linear_unit=True,  # SwiGLU
        activation_func=F.silu,
        add_bias_linear=False,
        init_method_std=arch.get("init_std", 0.02),
        apply_rope_fusion=False,
        masked_softmax_fusion=False,
        gradient_accumulation_fusion=False,
        bias_activation_fusion=False,
        persist_layer_norm=False,
        bf16=bf16,
        params_dtype=torch.bfloat16 if bf16 else torch.float32,
        **overrides,
    )


def gpt_model(arch: dict, vocab_size: int, bf16: bool = False, **config_overrides):
    return GPTModel(
        transformer_config(arch, bf16=bf16, **config_overrides),
        get_gpt_layer_local_spec(normalization="RMSNorm"),
        vocab_size=vocab_size,
        max_sequence_length=arch["seq_len"],
        position_embedding_type="rope",
        rotary_base=int(arch.get("rope_theta", 10000)),
        share_embeddings_and_output_weights=arch.get("tie_embeddings", True),
        pre_process=True,
        post_process=True,
    )


def causal_mask(seq_len: int, device=None) -> torch.Tensor:
    """Megatron's mask convention: True where attention is *not* allowed."""
    return torch.triu(torch.ones(seq_len, seq_len, device=device), diagonal=1).bool()[None, None]


def logits(model, input_ids: torch.Tensor) -> torch.Tensor:
    seq = input_ids.shape[1]
    pos = torch.arange(seq, device=input_ids.device)[None].expand_as(input_ids)
    return model(input_ids, pos, attention_mask=causal_mask(seq, input_ids.device))
