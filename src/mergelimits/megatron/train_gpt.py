"""Pre-training with megatron-core on LUMI: one process per GCD, started by srun.

    srun python -m mergelimits.megatron.train_gpt RUN.json

RUN.json (written by the `pretrain_megatron` rule from the config) names the
architecture, the recipe, the indexed data with its blend weights, the shared init (a
Hugging Face checkpoint, converted here so that Megatron starts from the very weights the
other models started from), the checkpoint directory and the steps to save.

The job saves a dist checkpoint every `save_interval` steps and at every configured step,
and exits cleanly `exit_margin_min` minutes before the Slurm wall limit with status 75
(EX_TEMPFAIL): the rule's `retries` resubmit it and the run resumes from the latest
checkpoint (weights, distributed optimiser, scheduler, data position, RNG).

What runs where: the model, the conversion and dist_checkpointing are exercised on CPU by
tests/test_megatron.py; the distributed optimiser and the schedules below need GPUs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.distributed as dist

log = logging.getLogger("mergelimits.megatron")
EX_TEMPFAIL = 75
TRACKER = "latest_checkpointed_iteration.txt"


def _env_int(*names: str, default: int) -> int:
    for n in names:
        if n in os.environ:
            return int(os.environ[n])
    return default


def init_distributed(tp: int, pp: int, seed: int) -> None:
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

    rank = _env_int("SLURM_PROCID", "RANK", default=0)
    world = _env_int("SLURM_NTASKS", "WORLD_SIZE", default=1)
    local = _env_int("SLURM_LOCALID", "LOCAL_RANK", default=0)
    # One GCD per task: the launcher binds each task to its GCD (ROCR_VISIBLE_DEVICES),
    # so every task sees its own device as device 0 unless it sees them all.
    torch.cuda.set_device(local % torch.cuda.device_count())
    dist.init_process_group("nccl", rank=rank, world_size=world)  # RCCL on ROCm
    parallel_state.initialize_model_parallel(tp, pp)
    model_parallel_cuda_manual_seed(seed)


def latest_iteration(save_dir: Path) -> int:
    tracker = save_dir / TRACKER
    return int(tracker.read_text()) if tracker.exists() else 0


def iter_dir(save_dir: Path, step: int) -> Path:
    return save_dir / f"iter_{step:07d}"


def save(save_dir: Path, step: int, model, optimizer, scheduler) -> None:
    from megatron.core import dist_checkpointing

    path = iter_dir(save_dir, step)
    path.mkdir(parents=True, exist_ok=True)
    model_sd = model.sharded_state_dict()
    state = {"model": model_sd, "optimizer": optimizer.sharded_state_dict(model_sd)}
    dist_checkpointing.save(state, str(path))
    if dist.get_rank() == 0:
        torch.save({"scheduler": scheduler.state_dict(), "step": step,
                    "rng": {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state()}},
                   path / "common_extra.pt")
        tmp = save_dir / (TRACKER + ".tmp")
        tmp.write_text(str(step))
        os.replace(tmp, save_dir / TRACKER)  # written last: a half-saved iteration is never "latest"
    dist.barrier()


def load(save_dir: Path, step: int, model, optimizer, scheduler) -> None:
    from megatron.core import dist_checkpointing

    path = iter_dir(save_dir, step)
    model_sd = model.sharded_state_dict()
    state = dist_checkpointing.load({"model": model_sd, "optimizer": optimizer.sharded_state_dict(model_sd)},
                                    str(path))
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    extra = torch.load(path / "common_extra.pt", weights_only=False)
    scheduler.load_state_dict(extra["scheduler"])
    torch.set_rng_state(extra["rng"]["cpu"])
    torch.cuda.set_rng_state(extra["rng"]["cuda"])


def forward_step(data_iterator, model, seq_len: int):
    batch = next(data_iterator)
    tokens = batch["tokens"].cuda(non_blocking=True)
    labels = batch["labels"].cuda(non_blocking=True)
    loss_mask = batch["loss_mask"].cuda(non_blocking=True).float()
    pos = batch["position_ids"].cuda(non_blocking=True)
    from .model import causal_mask

    output = model(tokens, pos, attention_mask=causal_mask(seq_len, tokens.device), labels=labels)

    def loss_func(out):
        losses = out.float()
        loss = torch.sum(losses.view(-1) * loss_mask.view(-1)) / loss_mask.sum()
        return loss, {"lm loss": loss.detach()}

    return output, loss_func


def main(run_path: str) -> int:
    from megatron.core import parallel_state
    from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig
    from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler
    from megatron.core.pipeline_parallel import get_forward_backward_func

    from ..model import load_model
    from . import convert, data
    from .model import gpt_model

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    run = json.loads(Path(run_path).read_text())
    os.environ.update({k: str(v) for k, v in run.get("env", {}).items()})  # RCCL/libfabric, from the profile
    arch, rec = run["arch"], run["recipe"]
    started = time.time()
    init_distributed(rec.get("tp", 1), rec.get("pp", 1), run["seed"])
    dp = parallel_state.get_data_parallel_world_size()
    micro, global_batch = rec["micro_batch"], rec["global_batch"]
    if global_batch % (micro * dp):
        raise ValueError(f"global batch {global_batch} is not a multiple of micro batch {micro} × data parallel {dp}")
    n_micro = global_batch // (micro * dp)

    init = load_model(run["init"])  # the shared init, as every other model of the study
    vocab = init.config.vocab_size
    model = gpt_model(arch, vocab, bf16=True).cuda()
    convert.load_into_megatron(model, {k: v.to(torch.bfloat16) for k, v in init.state_dict().items()}, arch)
    del init
    ddp_cfg = DistributedDataParallelConfig(use_distributed_optimizer=True, overlap_grad_reduce=True,
                                            grad_reduce_in_fp32=True)
    model = DistributedDataParallel(model.config, ddp_cfg, model)
    opt_cfg = OptimizerConfig(optimizer="adam", lr=rec["lr"], min_lr=0.0, weight_decay=rec["weight_decay"],
                              adam_beta1=0.9, adam_beta2=0.95, adam_eps=1e-8, clip_grad=1.0, bf16=True,
                              use_distributed_optimizer=True)
    optimizer = get_megatron_optimizer(opt_cfg, [model])
    steps = run["steps"]
    scheduler = OptimizerParamScheduler(
        optimizer, init_lr=0.0, max_lr=rec["lr"], min_lr=0.0,
        lr_warmup_steps=round(steps * rec["warmup_frac"]), lr_decay_steps=steps, lr_decay_style="WSD",
        wsd_decay_steps=round(steps * rec["decay_frac"]), lr_wsd_decay_style="linear",
        start_wd=rec["weight_decay"], end_wd=rec["weight_decay"], wd_incr_steps=steps, wd_incr_style="constant")

    save_dir = Path(run["save_dir"])
    step = latest_iteration(save_dir)
    if step:
        load(save_dir, step, model, optimizer, scheduler)
        log.info("resumed at step %d", step)
    dataset = data.gpt_train_dataset(run["data"]["prefixes"], run["data"]["weights"], arch["seq_len"], run["seed"],
                                     steps * global_batch, run["tokenizer"], run["data"].get("cache"))
    # Each data-parallel rank reads its own slice of every global batch; starting at the
    # saved step is what makes the data position part of the checkpoint.
    rank, per_rank = parallel_state.get_data_parallel_rank(), global_batch // dp

    def batches(first_step):
        for s in range(first_step, steps):
            base = s * global_batch + rank * per_rank
            for m in range(n_micro):
                items = [dataset[base + m * micro + i] for i in range(micro)]
                yield {k: torch.stack([torch.as_tensor(it[k]) for it in items]) for k in items[0]}

    it = batches(step)
    fwd_bwd = get_forward_backward_func()
    checkpoints = set(run["checkpoints"])
    tokens_per_step = global_batch * arch["seq_len"]
    t0 = time.time()
    while step < steps:
        model.zero_grad_buffer()
        optimizer.zero_grad()
        losses = fwd_bwd(forward_step_func=partial(forward_step, seq_len=arch["seq_len"]), data_iterator=it,
                         model=[model], num_microbatches=n_micro, seq_length=arch["seq_len"],
                         micro_batch_size=micro, forward_only=False)
        ok, grad_norm, _ = optimizer.step()
        scheduler.step(increment=1)
        step += 1
        if dist.get_rank() == 0 and step % rec.get("log_interval", 10) == 0:
            dt = (time.time() - t0) / rec.get("log_interval", 10)
            loss = torch.stack([x["lm loss"] for x in losses]).mean().item() if losses else float("nan")
            log.info("step %d/%d loss %.4f lr %.3e grad_norm %s tokens/s %.0f", step, steps, loss,
                     scheduler.get_lr(optimizer.param_groups[0]), grad_norm, tokens_per_step / dt)
            t0 = time.time()
        if step in checkpoints or step % rec["save_interval"] == 0 or step == steps:
            save(save_dir, step, model, optimizer, scheduler)
        elapsed_min = (time.time() - started) / 60
        if step < steps and elapsed_min > rec["wall_min"] - rec["exit_margin_min"]:
            save(save_dir, step, model, optimizer, scheduler)
            log.info("stopping at step %d before the wall limit; resubmit to resume", step)
            return EX_TEMPFAIL
    if dist.get_rank() == 0:
        publish(save_dir, run["outputs"])
    dist.barrier()
    return 0


def publish(save_dir: Path, outputs: dict) -> None:
    """Hard-link the configured steps' checkpoints where the workflow expects them. They
    stay in save_dir too, so a job that failed after some were published still resumes."""
    import shutil

    for step, out in outputs.items():
        src, out = iter_dir(save_dir, int(step)), Path(out)
        if not (src / "metadata.json").exists():
            raise FileNotFoundError(f"checkpoint of step {step} missing from {src}")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(src, out, copy_function=os.link)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
