"""Run megatron-core on a CPU-only torch: the tests, and the export of dist checkpoints to
Hugging Face on CPU nodes. Never imported by the GPU training path (train_gpt).

megatron-core 0.16 moves tensors to `torch.cuda.current_device()` and synchronises CUDA in
places that do not need a GPU (rotary embeddings, checkpoint saving). On a CPU build these
raise; pointing them at the CPU lets the real model, training step and dist_checkpointing
run at tiny size. Megatron's own optimizer and pipeline schedules hard-code CUDA and stay
untested here: they run on LUMI.
"""

from __future__ import annotations

import os

import torch


def enable() -> None:
    if torch.cuda.is_available():
        raise RuntimeError("cpu_compat is for CPU-only torch builds; do not use it on a GPU node")
    torch.cuda.current_device = lambda: torch.device("cpu")
    torch.cuda.synchronize = lambda *a, **k: None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_single_process() -> None:
    """One gloo rank, tensor and pipeline parallel size 1, and Megatron's RNG tracker."""
    import torch.distributed as dist
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import initialize_rng_tracker

    enable()
    if not dist.is_initialized():
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(_free_port())
        dist.init_process_group("gloo", rank=0, world_size=1)
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(1, 1)
    initialize_rng_tracker(inference_rng_tracker=True, force_reset=True)
