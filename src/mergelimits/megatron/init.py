"""The shared initialisation as HPLT made it: step 0 of a megatron-core GPTModel built with
the HPLT arguments, exported to Hugging Face Llama.

The authors' TIES and DARE-TIES base is their own Megatron run with `--train-iters 0` and the
HPLT arguments (Sethjsa/multimerge `02-analysis/pretrain_gpt.py`); HPLT's experts started
from it. Megatron-LM seeds as `_set_random_seed` does (random, numpy, torch, then the
model-parallel CUDA generators with `model_parallel_cuda_manual_seed`) and initialises the
output projections of attention and MLP with std / √(2·layers) (`scaled_init_method_normal`),
unlike a Hugging Face Llama. On a GPU the weights are drawn where HPLT drew them (CUDA
generators, bf16 parameters as its recipe); on a CPU build (the tests) with CPU generators,
which draw other numbers. `verify_init` then tells whether the result is HPLT's own init.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import numpy as np
import torch
from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

from ..model import RECORD, WEIGHTS, padded_vocab, weights_sha256
from ..records import write_record
from ..tokenizer import load as load_tokenizer
from . import cpu_compat
from .convert import save_hf
from .model import gpt_model
from .train_gpt import init_distributed


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port no process on this node listens on now, chosen by the kernel (bind to 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def build_step0(arch: dict, tokenizer_dir: str | Path, seed: int, out_dir: str | Path, bf16: bool = True) -> dict:
    """Build, seed and export Megatron's step 0; return its record (as model.make_init's)."""
    tok = load_tokenizer(tokenizer_dir)
    vocab = padded_vocab(len(tok), arch.get("vocab_multiple", 1))
    gpu = torch.cuda.is_available()
    if gpu:  # one rank, set up as train_gpt sets up each of its ranks
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        # small-g shares nodes between jobs: a fixed port collides with another job's step 0
        os.environ.setdefault("MASTER_PORT", str(free_port()))
        init_distributed(1, 1, seed)
    else:
        cpu_compat.init_single_process()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if gpu:
        model_parallel_cuda_manual_seed(seed)
    model = gpt_model(arch, vocab, bf16=bf16 and gpu, use_cpu_initialization=not gpu)
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items() if not k.endswith("_extra_state")}
    out_dir = Path(out_dir)
    save_hf(state, arch, vocab, tokenizer_dir, out_dir)
    record = {"seed": seed, "arch": arch, "vocab_size": vocab, "engine": "megatron",
              "device": "cuda" if gpu else "cpu", "params_dtype": "bfloat16" if bf16 and gpu else "float32",
              "sha256": weights_sha256(out_dir / WEIGHTS),
              "params": sum(p.numel() for p in model.parameters())}
    write_record(out_dir / RECORD, **record)
    return record
