"""The tiny study's pre-training: a plain PyTorch loop on CPU, resumable bit for bit.

The recipe is the paper's, scaled down: AdamW (β 0.9/0.95, ε 1e-8, weight decay 0.05),
a warmup-stable-decay schedule (warm-up over the first tenth, linear decay to zero over
the last fifth), gradient clipping at 1.0. Every model starts from the shared init, but
a branched expert (beyond the paper): it continues Mixed's run from a saved step on its own
language, with Mixed's weights, optimiser and schedule, to the same final step.

A job killed at any point and rerun resumes from its last saved state (weights,
optimiser, schedule, data position, RNG); on CPU it ends bit-identical to an
uninterrupted run. The data order is a pure function of (seed, step), so the data
position is the step itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .model import load_model
from .records import write_record
from .tokenizer import load as load_tokenizer

log = logging.getLogger(__name__)

STATE = "train_state.pt"


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch_size: int
    seq_len: int
    lr: float
    seed: int
    checkpoints: tuple[int, ...]
    warmup_frac: float = 0.1
    decay_frac: float = 0.2
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 0.05
    clip: float = 1.0
    save_every: int = 50
    log_every: int = 10
    threads: int = 1
    #: steps whose full training state is kept in the checkpoint (STATE): what a branched
    #: expert continues from
    keep_state: tuple[int, ...] = ()

    def __post_init__(self):
        steps = list(self.checkpoints)
        if steps != sorted(set(steps)):
            raise ValueError(f"pretrain.checkpoints must be strictly increasing; got {steps}")
        if steps and (steps[0] < 1 or steps[-1] > self.steps):
            raise ValueError(f"pretrain.checkpoints must lie in 1..{self.steps}; got {steps}")
        if not set(self.keep_state) <= set(steps):
            raise ValueError(f"states kept at {list(self.keep_state)} must be among the checkpoints {steps}")

    def recipe(self) -> dict:
        """What a branched run must share with the run it continues: everything but where it
        saves (checkpoints, kept states) and how many threads it used."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("checkpoints", "keep_state", "threads")}
        return json.loads(json.dumps(keep))


def wsd_lambda(cfg: TrainConfig):
    warm = max(1, round(cfg.steps * cfg.warmup_frac))
    decay_start = cfg.steps - round(cfg.steps * cfg.decay_frac)

    def factor(step: int) -> float:  # step: optimiser steps taken so far
        if step < warm:
            return (step + 1) / warm
        if step < decay_start:
            return 1.0
        return max(0.0, (cfg.steps - step) / max(1, cfg.steps - decay_start))

    return factor


def token_blocks(corpus: str | Path, tok, seq_len: int) -> torch.Tensor:
    """The corpus as one stream (BOS doc EOS BOS doc EOS ...) cut into blocks of seq_len."""
    ids: list[int] = []
    with open(corpus, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    for enc in tok(texts, add_special_tokens=False)["input_ids"]:
        ids += [tok.bos_token_id, *enc, tok.eos_token_id]
    n = len(ids) // seq_len
    if n == 0:
        raise ValueError(f"{corpus}: {len(ids)} tokens, fewer than one sequence of {seq_len}")
    return torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)


def batch_indices(n_blocks: int, step: int, batch_size: int, seed: int) -> torch.Tensor:
    """The blocks of one step: epochs are seeded permutations, so (seed, step) fixes the batch."""
    start = step * batch_size
    out = []
    for pos in range(start, start + batch_size):
        epoch, i = divmod(pos, n_blocks)
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        out.append(torch.randperm(n_blocks, generator=g)[i])
    return torch.stack(out)


def _config_diff(saved: dict, now: dict) -> list[str]:
    keys = sorted(set(saved) | set(now))
    return [f"{k}: was {saved.get(k)!r}, now {now.get(k)!r}" for k in keys if saved.get(k) != now.get(k)]


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _save_checkpoint(model, tok, out_dir: Path, meta: dict, state: dict | None = None) -> None:
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    if state is not None:
        torch.save(state, tmp / STATE)
    write_record(tmp / "train.json", **meta)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def load_state(path: Path) -> dict:
    try:
        return torch.load(path, weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as err:
        raise ValueError(f"corrupt training state {path}: {err}; delete it to restart") from err


def _restore(state: dict, model, opt, sched) -> int:
    """A saved training state into the model, optimiser, schedule and RNG; its step."""
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    return state["step"]


def train(init_dir: str | Path, corpus: str | Path, cfg: TrainConfig, out_dirs: dict[int, str | Path],
          state_dir: str | Path, stop_after: int | None = None, branch_from: str | Path | None = None) -> dict:
    """Train from the init; write a Hugging Face checkpoint at each step of `out_dirs`.

    `state_dir` holds the resumable state. `stop_after` ends the run early (tests).
    `branch_from`: a training state another run kept (`keep_state`): continue it on this
    corpus from its step, with its weights, optimiser and schedule (`init_dir` then only
    gives the tokenizer and the architecture).
    """
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    # torch seeds its global generator at random in each process; nothing in the loop draws
    # from it today (no dropout), but whatever does, and the state saved for a resume, follow
    # the config's seed.
    torch.manual_seed(cfg.seed)
    if sorted(out_dirs) != sorted(cfg.checkpoints):
        raise ValueError(f"checkpoint outputs {sorted(out_dirs)} differ from pretrain.checkpoints {list(cfg.checkpoints)}")
    tok = load_tokenizer(init_dir)
    model = load_model(init_dir)
    model.train()
    blocks = token_blocks(corpus, tok, cfg.seq_len)
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim < 2 else decay).append(p)  # no weight decay on norms
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, wsd_lambda(cfg))
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_path = state_dir / STATE
    cfg_dict = json.loads(json.dumps(asdict(cfg)))
    step = 0
    if branch_from is not None and not state_path.exists():
        state = load_state(Path(branch_from))
        diff = _config_diff({k: state["config"].get(k) for k in cfg.recipe()}, cfg.recipe())
        if diff:
            raise ValueError(f"{branch_from} was saved under another training recipe; a branch must continue "
                             "the same one:\n  " + "\n  ".join(diff))
        step = _restore(state, model, opt, sched)
        log.info("branched from %s at step %d", branch_from, step)
    if state_path.exists():
        state = load_state(state_path)
        diff = _config_diff(state["config"], cfg_dict)
        if diff:
            raise ValueError(f"{state_path} was saved under another training config; refusing to resume:\n  "
                             + "\n  ".join(diff) + f"\ndelete {state_dir} to start over")
        step = _restore(state, model, opt, sched)
        log.info("resumed from %s at step %d", state_path, step)

    n_tokens = cfg.batch_size * cfg.seq_len
    t0, tokens_since = time.perf_counter(), 0
    losses = []
    while step < cfg.steps:
        idx = batch_indices(len(blocks), step, cfg.batch_size, cfg.seed)
        batch = blocks[idx]
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        sched.step()
        step += 1
        tokens_since += n_tokens
        losses.append(loss.item())
        if step % cfg.log_every == 0 or step == cfg.steps:
            dt = time.perf_counter() - t0
            log.info("step %d/%d loss %.4f lr %.2e tokens/s %.0f", step, cfg.steps, loss.item(),
                     sched.get_last_lr()[0], tokens_since / max(dt, 1e-9))
            t0, tokens_since = time.perf_counter(), 0
        if step in out_dirs or step % cfg.save_every == 0 or step == cfg.steps:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "rng": torch.get_rng_state(), "step": step, "config": cfg_dict}
        if step in out_dirs:  # kept with the state, so a resumed run still has the earlier ones
            meta = {"step": step, "tokens": step * n_tokens, "loss": loss.item(), "config": cfg_dict}
            if branch_from is not None:
                meta["branched_from"] = str(branch_from)
            _save_checkpoint(model, tok, state_dir / "checkpoints" / f"step~{step}", meta,
                             state if step in cfg.keep_state else None)
        if step % cfg.save_every == 0 or step in out_dirs or step == cfg.steps:
            _atomic_save(state, state_path)
        if stop_after is not None and step >= stop_after:
            break
    if step == cfg.steps:
        publish(state_dir, out_dirs)
    return {"step": step, "final_loss": losses[-1] if losses else None, "blocks": len(blocks)}


def publish(state_dir: Path, out_dirs: dict[int, str | Path]) -> None:
    """Put the finished run's checkpoints where the workflow expects them (hard links)."""
    for step, out in out_dirs.items():
        src, out = Path(state_dir) / "checkpoints" / f"step~{step}", Path(out)
        if not (src / "model.safetensors").exists():
            raise FileNotFoundError(f"checkpoint of step {step} missing from {src}; delete {state_dir} to retrain")
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, out, copy_function=os.link)
