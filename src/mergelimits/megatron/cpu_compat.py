"""Run megatron-core on a CPU-only torch: the training loop under torchrun with gloo (the
tests), the shared init in the tests, and the export of dist checkpoints on CPU nodes.

megatron-core 0.16 assumes CUDA in places that do not need a GPU:

- it moves tensors to `torch.cuda.current_device()` and synchronises CUDA (rotary
  embeddings, checkpoint saving);
- its optimizers create their loss-scale and overflow tensors with `device='cuda'`
  (`MixedPrecisionOptimizer.__init__`, `FP32Optimizer.__init__`);
- the distributed optimizer picks its code path from `param.type()`, accepting only
  'torch.cuda.FloatTensor' / '…BFloat16Tensor' / '…HalfTensor' (`distrib_optimizer.py`,
  `_build_model_and_main_param_groups`);
- `.cuda()` is called on batches and on loaded optimizer state;
- recomputation saves and restores the CUDA generator's state.

`enable()` points all of these at the CPU, so that the same DistributedDataParallel,
DistributedOptimizer, forward-backward schedule and dist_checkpointing calls as on a GPU run
here, with gloo in place of NCCL/RCCL. What this cannot reach: CUDA streams (used only with
several distributed-optimizer instances, which the study does not use), fused kernels
(apex, Transformer Engine, flash attention: absent on CPU, so the local layer spec runs),
and the speed and memory of a GPU.
"""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
from megatron.core import parallel_state
from megatron.core.tensor_parallel import random as mrandom
from megatron.core.tensor_parallel.random import initialize_rng_tracker
from torch.overrides import TorchFunctionMode

_CPU_TYPES = {"torch.FloatTensor": "torch.cuda.FloatTensor",
              "torch.BFloat16Tensor": "torch.cuda.BFloat16Tensor",
              "torch.HalfTensor": "torch.cuda.HalfTensor"}


def _is_cuda(device) -> bool:
    if isinstance(device, torch.device):
        return device.type == "cuda"
    return isinstance(device, str) and device.startswith("cuda")


class CudaOnCpu(TorchFunctionMode):
    """Every tensor meant for "cuda" is made on the CPU; `.cuda()` is the identity; a CPU
    tensor reports its type under the CUDA name megatron's dtype dispatch expects."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_cuda(kwargs.get("device")):
            kwargs = {**kwargs, "device": "cpu"}
        if func is torch.Tensor.cuda:
            return args[0]
        if func is torch.Tensor.to and args[1:] and _is_cuda(args[1]):
            args = (args[0], "cpu", *args[2:])
        out = func(*args, **kwargs)
        if func is torch.Tensor.type and len(args) == 1 and not kwargs:
            return _CPU_TYPES.get(out, out)
        return out


_mode: CudaOnCpu | None = None


def enable() -> None:
    global _mode
    if torch.cuda.is_available():
        raise RuntimeError("cpu_compat is for CPU-only torch builds; do not use it on a GPU node")
    torch.cuda.current_device = lambda: torch.device("cpu")
    torch.cuda.synchronize = lambda *a, **k: None
    # Recomputation (tensor_parallel.checkpoint) saves and restores the "CUDA" generator
    # around the recomputed forward: here that generator is the CPU's.
    torch.cuda.random.get_rng_state = lambda device="cuda": torch.get_rng_state()
    mrandom._set_cuda_rng_state = lambda new_state, device=-1, graph_safe=False: torch.set_rng_state(new_state)
    if _mode is None:
        _mode = CudaOnCpu()
        _mode.__enter__()  # for the life of the process: a job is one process


def disable() -> None:
    """Leave the CPU-as-CUDA mode (a test process that goes on with other work)."""
    global _mode
    if _mode is not None:
        _mode.__exit__(None, None, None)
        _mode = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_single_process() -> None:
    """One gloo rank, tensor and pipeline parallel size 1, and Megatron's RNG tracker."""
    enable()
    if not dist.is_initialized():
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(_free_port())
        dist.init_process_group("gloo", rank=0, world_size=1)
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(1, 1)
    initialize_rng_tracker(inference_rng_tracker=True, force_reset=True)
