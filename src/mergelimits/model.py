"""The study's architecture and its one shared random initialisation.

Every monolingual model and Mixed10 start from the same init; TIES and DARE-TIES take
their task vectors against it. The init is a Hugging Face Llama checkpoint with a record
beside it (seed, architecture, SHA-256 of the weights), so that a model trained elsewhere
(Megatron on LUMI, or HPLT's published checkpoints) can be checked against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from .checkpoint import param_count, tensor_shapes, weights_sha256  # noqa: F401 - model.* as callers know them
from .modelid import WEIGHTS
from .records import write_record
from .tokenizer import load as load_tokenizer

RECORD = "init.json"

#: config key -> LlamaConfig field
ARCH_FIELDS = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "ffn": "intermediate_size",
    "heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "seq_len": "max_position_embeddings",
    "init_std": "initializer_range",
    "tie_embeddings": "tie_word_embeddings",
}


def padded_vocab(vocab: int, multiple: int) -> int:
    """Megatron pads the embedding to a multiple (128 in the HPLT recipe)."""
    return -(-vocab // multiple) * multiple


def llama_config(arch: dict, vocab_size: int, tok=None):
    kwargs = {field: arch[key] for key, field in ARCH_FIELDS.items() if key in arch}
    kwargs.setdefault("num_key_value_heads", arch["heads"])
    special = {}
    if tok is not None:
        special = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    return LlamaConfig(
        vocab_size=padded_vocab(vocab_size, arch.get("vocab_multiple", 1)),
        rope_parameters={"rope_type": "default", "rope_theta": float(arch.get("rope_theta", 10000.0))},
        hidden_act="silu",  # SwiGLU
        rms_norm_eps=1e-5,
        attention_bias=False,
        mlp_bias=False,
        **kwargs,
        **special,
    )


def make_init(arch: dict, tokenizer_dir: str | Path, seed: int, out_dir: str | Path) -> dict:
    """Build, seed and save the shared initialisation; return its record."""
    tok = load_tokenizer(tokenizer_dir)
    cfg = llama_config(arch, len(tok), tok)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    record = {"seed": seed, "arch": arch, "vocab_size": cfg.vocab_size,
              "sha256": weights_sha256(out_dir / WEIGHTS), "params": sum(p.numel() for p in model.parameters())}
    write_record(out_dir / RECORD, **record)
    return record


def record_published_init(init_dir: str | Path, arch: dict, source: dict) -> dict:
    """Record a fetched step 0 (hub.fetch_init) as a built init is recorded: its SHA-256 and
    size, with the repository, branch and commit it came from in place of a seed."""
    init_dir = Path(init_dir)
    record = {"engine": "hub", **source, "seed": None, "arch": arch,
              "vocab_size": json.loads((init_dir / "config.json").read_text())["vocab_size"],
              "sha256": weights_sha256(init_dir / WEIGHTS), "params": param_count(init_dir)}
    write_record(init_dir / RECORD, **record)
    return record


def check_arch(model_dir: str | Path, arch: dict) -> None:
    """Refuse a checkpoint whose architecture differs from the config, naming the keys."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"no checkpoint in {model_dir} (config.json missing)")
    have = AutoConfig.from_pretrained(model_dir)
    values = {key: getattr(have, field, None) for key, field in ARCH_FIELDS.items()}
    values["rope_theta"] = (getattr(have, "rope_parameters", None) or {}).get("rope_theta")
    diffs = [f"pretrain.arch.{key}: config {arch[key]!r}, checkpoint {values[key]!r}"
             for key in values if key in arch and values[key] != arch[key]]
    if diffs:
        raise ValueError(f"{model_dir} does not match the configured architecture:\n  " + "\n  ".join(diffs))





def device() -> str:
    """A GPU where the job got one (LUMI's small-g: a ROCm GCD shows as cuda), else the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(model_dir: str | Path, dtype=torch.float32):
    """Load a checkpoint; a missing or corrupt weights file is named in the error."""
    model_dir = Path(model_dir)
    weights = model_dir / WEIGHTS
    if not weights.exists():
        raise FileNotFoundError(f"checkpoint weights missing: {weights}")
    try:
        return AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    except Exception as err:  # safetensors raises several kinds on a truncated file
        raise ValueError(f"corrupt checkpoint {weights}: {err}") from err


def verify_init(init_dir: str | Path, arch: dict) -> dict:
    """The shared init as recorded: the configured architecture and unchanged weights."""
    init_dir = Path(init_dir)
    record_path = init_dir / RECORD
    if not record_path.exists():
        raise FileNotFoundError(f"init record missing: {record_path}")
    check_arch(init_dir, arch)
    record = json.loads(record_path.read_text())
    weights = init_dir / WEIGHTS
    if not weights.exists():
        raise FileNotFoundError(f"checkpoint weights missing: {weights}")
    if weights_sha256(weights) != record["sha256"]:
        raise ValueError(f"{weights} does not match the SHA-256 in {record_path}: the init was changed or corrupted")
    return record
