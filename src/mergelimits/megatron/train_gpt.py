"""Pre-training with megatron-core: one process per device, started by srun on LUMI or by
torchrun anywhere.

    srun python -m mergelimits.megatron.train_gpt RUN.json            # LUMI, one task per GCD
    torchrun --nproc-per-node 2 -m mergelimits.megatron.train_gpt RUN.json   # here, CPU + gloo

RUN.json (written by the `megatron_run_config` rule from the config) names the
architecture, the recipe, the indexed data with its blend weights, the shared init (a
Hugging Face checkpoint, converted here so that Megatron starts from the very weights the
other models started from), the checkpoint directory and the steps to publish.

The loop is Megatron-LM's (`megatron/training/training.py`, `train_step` and
`setup_model_and_optimizer`) cut to what the study uses: DistributedDataParallel with the
distributed optimizer, the forward-backward schedule without pipelining, gradients reduced
by `finalize_model_grads`, the WSD schedule, dist checkpoints. The same code runs on a CPU
build of torch with gloo (`cpu_compat`), which is how tests/test_train_gpt.py runs it.

The job saves a dist checkpoint every `save_interval` steps and at every configured step,
and exits `exit_margin_min` minutes before the wall limit with status 75 (EX_TEMPFAIL): the
rule's `retries` resubmit it and the run resumes from the latest checkpoint (weights,
distributed optimizer, scheduler, data position, RNG). All ranks agree on stopping through
an all-reduce, as Megatron-LM's `--exit-duration-in-mins` does.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    gc.disable()  # until main(): the imports run without the cyclic collector (joblog.freeze_imports)
    # The profile's environment (threads, RCCL, libfabric) before torch reads it.
    os.environ.update({k: str(v) for k, v in json.loads(Path(sys.argv[1]).read_text()).get("env", {}).items()})

import hashlib
import logging
import re
import shutil
import time
from functools import partial

import megatron.core.optimizer as mcore_optimizer
import torch
import torch.distributed as dist
from megatron.core import dist_checkpointing, parallel_state
from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig, finalize_model_grads
from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer
from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler
from megatron.core.pipeline_parallel import get_forward_backward_func
from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed
from megatron.core.tensor_parallel.random import initialize_rng_tracker
from megatron.core.utils import check_param_hashes_across_dp_replicas
from safetensors.torch import load_file

from .. import joblog
from ..modelid import WEIGHTS
from ..records import write_record
from . import convert, cpu_compat, data, memory
from .model import causal_mask, gpt_model

log = logging.getLogger("mergelimits.megatron")
EX_TEMPFAIL = 75
TRACKER = "latest_checkpointed_iteration.txt"
RUN_RECORD = "run_arch.json"  # what the checkpoints in save_dir are checkpoints of
# Megatron-LM's default for dist checkpoints of the distributed optimizer
# (`_build_sharded_state_dict_metadata`): each rank writes its own buffers, reshardable
# across data-parallel sizes; 0.16's default 'fully_sharded_model_space' is deprecated
# and refused by its own ShardedTensor validation.
CKPT_METADATA = {"distrib_optim_sharding_type": "dp_reshardable"}


class RunError(Exception):
    """A bad run file or checkpoint directory: reported in one line, nothing written."""


def _env_int(*names: str, default: int) -> int:
    for n in names:
        if n in os.environ:
            return int(os.environ[n])
    return default


def first_host(nodelist: str) -> str:
    """The first host of a Slurm node list: 'nid[005000-005003,005010],x1' -> 'nid005000'."""
    prefix, first = re.match(r"([^,\[]*)(?:\[([^,\]-]+))?", nodelist).groups()
    return prefix + (first or "")


def rendezvous_env() -> None:
    """MASTER_ADDR/MASTER_PORT for env:// when srun (not torchrun) started the ranks: the
    step's first node, and a port derived from the job id so that two jobs sharing a node
    do not collide (LUMI's examples export the same from `scontrol show hostnames`)."""
    if "MASTER_ADDR" not in os.environ:
        nodes = os.environ.get("SLURM_STEP_NODELIST") or os.environ.get("SLURM_JOB_NODELIST")
        os.environ["MASTER_ADDR"] = first_host(nodes) if nodes else "127.0.0.1"
    os.environ.setdefault("MASTER_PORT", str(20000 + int(os.environ.get("SLURM_JOB_ID", "9500")) % 20000))


def init_distributed(tp: int, pp: int, seed: int) -> torch.device:
    """The process group (NCCL/RCCL on GPUs, gloo on CPU), Megatron's parallel state and
    RNG; returns this rank's device."""
    # torchrun's variables first: inside a Slurm job SLURM_PROCID is the srun task, not the rank.
    rank = _env_int("RANK", "SLURM_PROCID", default=0)
    world = _env_int("WORLD_SIZE", "SLURM_NTASKS", default=1)
    local = _env_int("LOCAL_RANK", "SLURM_LOCALID", default=0)
    rendezvous_env()
    gpu = torch.cuda.is_available()
    if gpu:
        # One GCD per task: the launcher binds each task to its GCD (ROCR_VISIBLE_DEVICES),
        # so every task sees its own device as device 0 unless it sees them all.
        torch.cuda.set_device(local % torch.cuda.device_count())
    else:
        cpu_compat.enable()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if gpu else "gloo", rank=rank, world_size=world)
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(tp, pp)
    torch.manual_seed(seed)
    if gpu:
        model_parallel_cuda_manual_seed(seed)
    else:  # no CUDA generators to seed; the study trains without dropout
        initialize_rng_tracker(inference_rng_tracker=True, force_reset=True)
    return torch.device("cuda", torch.cuda.current_device()) if gpu else torch.device("cpu")


def latest_iteration(save_dir: Path) -> int:
    """The last complete checkpoint's step (0: none). The tracker is written after the
    checkpoint, so a half-written iteration is never the latest."""
    tracker = save_dir / TRACKER
    if not tracker.exists():
        return 0
    try:
        step = int(tracker.read_text())
    except ValueError:
        raise RunError(f"{tracker}: not a step number: {tracker.read_text()[:40]!r}") from None
    if not (iter_dir(save_dir, step) / "metadata.json").exists():
        raise RunError(f"{tracker} names step {step} but {iter_dir(save_dir, step)} holds no complete checkpoint "
                       "(metadata.json missing)")
    return step


def iter_dir(save_dir: Path, step: int) -> Path:
    return save_dir / f"iter_{step:07d}"


def check_save_dir(save_dir: Path, run: dict, vocab: int) -> None:
    """Refuse to resume from checkpoints of another architecture, vocabulary or data. Rank 0
    alone reads and writes the record (written whole, then renamed: another rank could
    otherwise read it half-written) and tells every rank the verdict, so all stop together."""
    problem = None
    if dist.get_rank() == 0:
        record = save_dir / RUN_RECORD
        mine = {"arch": run["arch"], "vocab_size": vocab, "seed": run["seed"], "steps": run["steps"],
                "global_batch": run["recipe"]["global_batch"], "data": run["data"]["prefixes"]}
        if record.exists():
            theirs = json.loads(record.read_text())
            diff = sorted(k for k in mine if theirs.get(k) != mine[k])
            if diff:
                problem = (f"{record}: the checkpoints in {save_dir} are of another run (differs in "
                           f"{', '.join(diff)}); move them away or point save_dir elsewhere")
        elif (save_dir / TRACKER).exists():  # checkpoints, but whose?
            problem = f"{save_dir} holds checkpoints but no {RUN_RECORD}: not resuming from a run of unknown shape"
        else:
            write_record(record, **mine)
    verdict = [problem]
    dist.broadcast_object_list(verdict, src=0)
    if verdict[0]:
        raise RunError(verdict[0])


def unwrap(model):
    return model.module if hasattr(model, "module") else model


def prune(save_dir: Path, keep: set[int], latest: int) -> list[int]:
    """Delete the saved iterations that are neither configured (`keep`: the checkpoints and
    the published steps) nor the latest: at the paper's scale each holds about 30 GB (bf16
    weights, fp32 main weights, two Adam moments), 47 of them 1.4 TB. Returns the steps deleted."""
    gone = []
    for path in sorted(save_dir.glob("iter_*")):
        step = int(path.name.removeprefix("iter_"))
        if step not in keep and step != latest:
            shutil.rmtree(path)
            gone.append(step)
    return gone


def save(save_dir: Path, step: int, model, optimizer, scheduler, rng: dict, keep: set[int] | None = None) -> None:
    """One iteration, complete before the tracker names it; then, with `keep`, the
    iterations that are neither kept nor this one are deleted (prune)."""
    path = iter_dir(save_dir, step)
    if dist.get_rank() == 0:  # leftovers of a save killed half-way: never the tracker's step
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    dist.barrier()
    model_sd = unwrap(model).sharded_state_dict()  # unprefixed keys: export reads the same ones
    state = {"model": model_sd, "optimizer": optimizer.sharded_state_dict(model_sd, metadata=CKPT_METADATA)}
    dist_checkpointing.save(state, str(path))
    if dist.get_rank() == 0:
        torch.save({"scheduler": scheduler.state_dict(), "step": step, "rng": rng}, path / "common_extra.pt")
        tmp = save_dir / (TRACKER + ".tmp")
        tmp.write_text(str(step))
        os.replace(tmp, save_dir / TRACKER)  # written last: a half-saved iteration is never "latest"
        if keep is not None and (gone := prune(save_dir, keep, step)):
            log.info("deleted saved iterations %s (neither configured nor the latest)", gone)
    dist.barrier()


def _torch_adams(optimizer):
    for opt in getattr(optimizer, "chained_optimizers", [optimizer]):
        if isinstance(opt.optimizer, (torch.optim.Adam, torch.optim.AdamW)):
            yield opt


def fresh_adam_state(optimizer) -> None:
    """Adam state to load into. Without Apex or Transformer Engine megatron-core steps with
    torch's Adam, and DistributedOptimizer.state_dict (0.16.1) reads the step from its
    per-parameter state, which a fresh optimizer does not have yet; the load overwrites it."""
    for opt in _torch_adams(optimizer):
        opt.init_state_fn(opt.optimizer, opt.config)
        for st in opt.optimizer.state.values():
            st.setdefault("step", torch.tensor(0.0))


def restore_adam_steps(optimizer) -> None:
    """After DistributedOptimizer.load_state_dict (0.16.1, torch's Adam) the checkpoint's
    step is in the param groups but not in the per-parameter state that torch's Adam reads
    for its bias correction (there it is the fresh state's 0): copy it across, one tensor
    per parameter, since Adam increments each in place."""
    for opt in _torch_adams(optimizer):
        for group in opt.optimizer.param_groups:
            if group.get("step") is not None:
                for p in group["params"]:
                    opt.optimizer.state[p]["step"] = torch.tensor(float(group["step"]))


@torch.no_grad()  # fp32 main weights are views of the parameters: copied into in place
def load(path: Path, model, optimizer, scheduler) -> dict:
    """One saved iteration (its directory) into the model, optimiser and schedule: this
    run's own latest, or, for a branch, the iteration of the run it continues."""
    if not (path / "metadata.json").exists():
        raise RunError(f"{path}: no complete checkpoint (metadata.json missing)")
    fresh_adam_state(optimizer)
    model_sd = unwrap(model).sharded_state_dict()
    # is_loading: without it the distributed optimizer's sharded state leaves Adam's moments out.
    state = dist_checkpointing.load(
        {"model": model_sd, "optimizer": optimizer.sharded_state_dict(model_sd, is_loading=True,
                                                                      metadata=CKPT_METADATA)}, str(path))
    unwrap(model).load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    restore_adam_steps(optimizer)
    extra = torch.load(path / "common_extra.pt", weights_only=False)
    scheduler.load_state_dict(extra["scheduler"])
    return extra["rng"]


def rng_state() -> dict:
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None}


def set_rng_state(rng: dict) -> None:
    torch.set_rng_state(rng["cpu"])
    if rng.get("cuda") is not None:
        torch.cuda.set_rng_state(rng["cuda"])


def forward_step(data_iterator, model, mask):
    batch = next(data_iterator)
    dev = mask.device
    tokens, labels = batch["tokens"].to(dev), batch["labels"].to(dev)
    loss_mask, pos = batch["loss_mask"].to(dev).float(), batch["position_ids"].to(dev)
    output = model(tokens, pos, attention_mask=mask, labels=labels)

    def loss_func(out):
        # Summed loss and token count, as Megatron-LM's pretrain_gpt: the schedule turns them
        # into the micro-batch's mean over its tokens and the number of micro-batches, and
        # DDP averages over data-parallel ranks, so the update is the global batch's mean.
        losses = out.float().view(-1) * loss_mask.view(-1)
        n = loss_mask.sum().to(torch.int)
        return losses.sum(), n, {"lm loss": torch.stack([losses.sum().detach(), n.float()])}

    return output, loss_func


def build(run: dict, device: torch.device, vocab: int):
    """The model (from the shared init), wrapped for data parallelism, its optimizer and
    scheduler, configured as Megatron-LM's `setup_model_and_optimizer` does."""
    arch, rec = run["arch"], run["recipe"]
    bf16 = rec.get("bf16", True)
    model = gpt_model(arch, vocab, bf16=bf16, **memory.layer_options(rec))
    model = model.to(device)
    dtype = torch.bfloat16 if bf16 else torch.float32
    # The shared init, as every other model of the study, read from its file: no Hugging Face
    # model is built, which on LUMI would hold a float32 copy per rank (8.6 GB each at 2.15B).
    init = load_file(Path(run["init"]) / WEIGHTS)
    convert.load_into_megatron(model, {k: v.to(dtype) for k, v in init.items()}, arch)
    del init
    ddp_cfg = DistributedDataParallelConfig(use_distributed_optimizer=True, overlap_grad_reduce=True,
                                            grad_reduce_in_fp32=True, bucket_size=rec.get("bucket_size"))
    model = DistributedDataParallel(model.config, ddp_cfg, model)
    opt_cfg = OptimizerConfig(optimizer="adam", lr=rec["lr"], min_lr=0.0, weight_decay=rec["weight_decay"],
                              adam_beta1=0.9, adam_beta2=0.95, adam_eps=1e-8, clip_grad=1.0, bf16=bf16,
                              use_distributed_optimizer=True)
    # torch's AdamW, whichever the image offers: megatron-core takes Transformer Engine's or
    # Apex's FusedAdam where either is installed, whose state and resume path are not the ones
    # fresh_adam_state / restore_adam_steps handle and tests/test_train_gpt.py checks.
    mcore_optimizer.USING_PYTORCH_OPTIMIZER = True
    optimizer = get_megatron_optimizer(opt_cfg, [model])
    inner = [type(o.optimizer).__name__ for o in getattr(optimizer, "chained_optimizers", [optimizer])]
    if len(list(_torch_adams(optimizer))) != len(inner):
        raise RunError(f"megatron-core built {', '.join(inner)}, not torch's AdamW: the resume path is tested "
                       "with torch's only")
    # What Megatron-LM's training loop wires up: without these the gradients are never
    # reduced across data-parallel ranks (finalize_model_grads is where the reduce happens).
    cfg = unwrap(model).config
    cfg.no_sync_func = model.no_sync
    cfg.finalize_model_grads_func = finalize_model_grads
    cfg.grad_scale_func = optimizer.scale_loss
    steps = run["steps"]
    scheduler = OptimizerParamScheduler(
        optimizer, init_lr=0.0, max_lr=rec["lr"], min_lr=0.0,
        lr_warmup_steps=round(steps * rec["warmup_frac"]), lr_decay_steps=steps, lr_decay_style="WSD",
        wsd_decay_steps=round(steps * rec["decay_frac"]), lr_wsd_decay_style="linear",
        start_wd=rec["weight_decay"], end_wd=rec["weight_decay"], wd_incr_steps=steps, wd_incr_style="constant")
    return model, optimizer, scheduler


def batches(dataset, first_step: int, steps: int, global_batch: int, micro: int, rank: int, dp: int):
    """This data-parallel rank's micro-batches from `first_step` on: the sample order is
    fixed by the dataset's seed, so the data position is just the step."""
    per_rank = global_batch // dp
    for s in range(first_step, steps):
        base = s * global_batch + rank * per_rank
        for m in range(per_rank // micro):
            items = [dataset[base + m * micro + i] for i in range(micro)]
            yield {k: torch.stack([torch.as_tensor(it[k]) for it in items]) for k in ("tokens", "labels",
                                                                                      "loss_mask", "position_ids")}


def train(run: dict, started: float) -> int:
    arch, rec = run["arch"], run["recipe"]
    device = init_distributed(rec.get("tp", 1), rec.get("pp", 1), run["seed"])
    dp = parallel_state.get_data_parallel_world_size()
    micro, global_batch = rec["micro_batch"], rec["global_batch"]
    if global_batch % (micro * dp):
        raise RunError(f"pretrain.megatron.global_batch: {global_batch} is not a multiple of micro_batch {micro} "
                       f"× data-parallel size {dp}")
    n_micro = global_batch // (micro * dp)
    vocab = json.loads((Path(run["init"]) / "config.json").read_text())["vocab_size"]
    save_dir = Path(run["save_dir"])
    check_save_dir(save_dir, run, vocab)  # before anything is built: a wrong directory costs nothing
    # Before anything is built, so that a crash in building counts as an attempt too.
    resumed = latest_iteration(save_dir)
    start = resumed or (run["branch_from"]["step"] if run.get("branch_from") else 0)
    check_progress(save_dir, start, rec.get("max_stalled_attempts", 1))
    dist.barrier()  # every rank has read the ledger before rank 0 adds this attempt to it
    record_attempt(save_dir, start=start)
    budget = memory.check(arch, rec, vocab, dp, memory.device_bytes(rec))
    if dist.get_rank() == 0:
        log.info("estimated peak memory per device: %s", memory.describe(budget))
    model, optimizer, scheduler = build(run, device, vocab)
    step = resumed
    # A branch (beyond the paper) continues another run's saved iteration on its own data:
    # that run's weights, optimiser, schedule and step. The data position is the step, as in
    # any resume, so a branch on the same data is the run it left (tests/test_train_gpt.py).
    branch = run.get("branch_from")
    if step:
        set_rng_state(load(iter_dir(save_dir, step), model, optimizer, scheduler))
        log.info("rank %d resumed at step %d", dist.get_rank(), step)
    elif branch:
        set_rng_state(load(Path(branch["dir"]), model, optimizer, scheduler))
        step = branch["step"]
        log.info("rank %d branched from %s at step %d", dist.get_rank(), branch["dir"], step)
    steps = run["steps"]
    dataset = data.gpt_train_dataset(run["data"]["prefixes"], run["data"]["weights"], arch["seq_len"], run["seed"],
                                     steps * global_batch, run["tokenizer"], run["data"].get("cache"))
    it = batches(dataset, step, steps, global_batch, micro, parallel_state.get_data_parallel_rank(), dp)
    fwd_bwd = get_forward_backward_func()
    mask = causal_mask(arch["seq_len"], device)  # one mask for every batch (the dataset builds none)
    checkpoints, interval = set(run["checkpoints"]), rec.get("log_interval", 10)
    keep = checkpoints | {int(k) for k in run["outputs"]}
    limit_s = 60 * (rec["wall_min"] - rec["exit_margin_min"])
    t0 = time.time()
    while step < steps:
        model.zero_grad_buffer()
        optimizer.zero_grad()
        losses = fwd_bwd(forward_step_func=partial(forward_step, mask=mask), data_iterator=it, model=[model],
                         num_microbatches=n_micro, seq_length=arch["seq_len"], micro_batch_size=micro,
                         forward_only=False)
        ok, grad_norm, _ = optimizer.step()
        scheduler.step(increment=1)
        step += 1
        total = torch.stack([x["lm loss"] for x in losses]).sum(0)
        dist.all_reduce(total, group=parallel_state.get_data_parallel_group())
        if dist.get_rank() == 0:
            log.info("step %d/%d loss %.6f lr %.3e grad_norm %.4f%s", step, steps, (total[0] / total[1]).item(),
                     scheduler.get_lr(optimizer.param_groups[0]), grad_norm or 0.0,
                     f" tokens/s {interval * global_batch * arch['seq_len'] / (time.time() - t0):.0f}"
                     if step % interval == 0 else "")
            if step % interval == 0:
                t0 = time.time()
        if step in checkpoints or step % rec["save_interval"] == 0 or step == steps:
            save(save_dir, step, model, optimizer, scheduler, rng_state(), keep)
        # Every rank stops at the same step: the first rank past the limit stops them all.
        stop = torch.tensor([int(time.time() - started > limit_s)], device=device)
        dist.all_reduce(stop, op=dist.ReduceOp.MAX)
        if rec.get("check_weight_hash_interval") and step % rec["check_weight_hash_interval"] == 0:
            check_replicas(model)
        if step < steps and stop.item():
            if step not in checkpoints and step % rec["save_interval"]:
                save(save_dir, step, model, optimizer, scheduler, rng_state(), keep)
            log.info("rank %d stopping at step %d before the wall limit; resubmit to resume", dist.get_rank(), step)
            record_attempt(save_dir, end="stopped")
            return EX_TEMPFAIL
    check_replicas(model)
    if dist.get_rank() == 0:
        publish(save_dir, run["outputs"])
    record_attempt(save_dir, end="done")
    dist.barrier()
    return 0


#: one line a job attempt: where it started, and how it ended (none: it crashed or was killed)
ATTEMPTS = "attempts.jsonl"


def attempts(save_dir: Path) -> list[dict]:
    """This run's job attempts, oldest first: {"start": step, "end": "stopped" | "done" | None}."""
    out: list[dict] = []
    path = save_dir / ATTEMPTS
    for line in path.read_text().splitlines() if path.exists() else []:
        event = json.loads(line)
        if "start" in event:
            out.append({"start": event["start"], "end": None})
        elif out:
            out[-1]["end"] = event["end"]
    return out


def check_progress(save_dir: Path, step: int, max_stalled: int = 1) -> None:
    """Refuse to start when the last `max_stalled` attempts all crashed at this very step:
    a wall-limit stop or a node failure after a checkpoint is resumed by the rule's retries,
    a bug that fails before any progress is not resubmitted on every node again and again."""
    stalled = 0
    for attempt in reversed(attempts(save_dir)):
        if attempt["end"] is not None or attempt["start"] != step:
            break
        stalled += 1
    if stalled >= max_stalled:
        raise RunError(f"{stalled} attempt(s) in a row failed at step {step} without saving progress "
                       f"({save_dir / ATTEMPTS}): not retrying; read the job's log, fix, then rerun "
                       f"(a new attempt is allowed once the cause is gone: delete that file's last line)")


def record_attempt(save_dir: Path, **event) -> None:
    """Rank 0 appends one event (`start=step` or `end=...`) to the attempts ledger."""
    if dist.get_rank() == 0:
        save_dir.mkdir(parents=True, exist_ok=True)
        with open(save_dir / ATTEMPTS, "a") as f:
            f.write(json.dumps(event) + "\n")


def weights_digest(model) -> str:
    """SHA-1 over every parameter, in order: equal on every data-parallel replica."""
    h = hashlib.sha1()
    for name, p in unwrap(model).named_parameters():
        h.update(name.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def check_replicas(model) -> None:
    """Megatron's own check that the data-parallel replicas hold the same weights
    (`--check-weight-hash-across-dp-replicas-interval` in Megatron-LM)."""
    same = check_param_hashes_across_dp_replicas([model], cross_check=True)
    log.info("rank %d weights sha1 %s; identical across data-parallel replicas: %s", dist.get_rank(),
             weights_digest(model), same)
    if not same:
        raise RunError("the data-parallel replicas hold different weights: gradients were not reduced alike")


def publish(save_dir: Path, outputs: dict) -> None:
    """Hard-link the configured steps' checkpoints where the workflow expects them. They
    stay in save_dir too, so a job that failed after some were published still resumes."""
    for step, out in outputs.items():
        src, out = iter_dir(save_dir, int(step)), Path(out)
        if not (src / "metadata.json").exists():
            raise RunError(f"checkpoint of step {step} missing from {src}")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(src, out, copy_function=os.link)


def main(run_path: str) -> int:
    started = time.time()
    joblog.freeze_imports()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    run = json.loads(Path(run_path).read_text())
    try:
        return train(run, started)
    except (RunError, memory.DoesNotFit) as e:
        log.error("%s", e)
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
