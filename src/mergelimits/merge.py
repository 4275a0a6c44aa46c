"""Merges with mergekit (its Python API): linear, TIES, DARE-TIES, task arithmetic.

TIES, DARE-TIES and task arithmetic take task vectors against the shared initialisation
(`base`). DARE drops parameters at random: mergekit gets the configured seed, and the
seed is written with the merge. Nothing here reimplements a merge method.

As the authors' `gen_configs.sh`: every member weighs 1/N (0.1 for Merged10, 0.5 for a
pair) and each method keeps mergekit's default normalisation (on for linear and TIES, off
for DARE-TIES, whose task vector is then Σ wᵢ·τᵢ over the sign-agreeing members).
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import metadata
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import registry
from .align import align_checkpoints
from .checkpoint import tensor_shapes
from .modelid import WEIGHTS

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class MergeError(ValueError):
    pass


def check_compatible(models: list[Path]) -> None:
    """Every model must have the same tensors with the same shapes; name those that differ."""
    ref_name, ref = models[0], tensor_shapes(models[0])
    for other in models[1:]:
        shapes = tensor_shapes(other)
        if shapes.keys() != ref.keys():
            diff = sorted(set(shapes) ^ set(ref))[:5]
            raise MergeError(f"cannot merge {ref_name} and {other}: different tensors ({', '.join(diff)} ...)")
        bad = [k for k in ref if ref[k] != shapes[k]]
        if bad:
            k = bad[0]
            raise MergeError(f"cannot merge {ref_name} and {other}: {k} has shape {ref[k]} vs {shapes[k]}"
                             + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))


def mergekit_config(method: str, members: list[Path], base: Path | None, density: float,
                    dtype: str = "float32") -> dict:
    entry = registry.method(method)
    if entry.task_vectors and base is None:
        raise MergeError(f"{method} needs a base model (the shared initialisation)")
    params = {"weight": 1.0 / len(members)}
    if entry.sparsified:
        params["density"] = density
    cfg = {
        "merge_method": entry.mergekit,
        "models": [{"model": str(m), "parameters": dict(params)} for m in members],
        "dtype": dtype,
    }
    if entry.task_vectors:
        cfg["base_model"] = str(base)
    if entry.normalize is not None:  # mergekit's default, spelled out so that merge.json says it
        cfg["parameters"] = {"normalize": entry.normalize}
    return cfg


def run(method: str, members: list[str | Path], out_dir: str | Path, *, base: str | Path | None = None,
        density: float = 0.75, seed: int | None = None, dtype: str = "float32",
        options: dict | None = None) -> dict:
    """Merge `members` into `out_dir` and write `merge.json` beside the weights."""
    # mergekit (seconds of imports) in the jobs that merge, not in those that compare merges
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge

    entry = registry.method(method)
    members = [Path(m) for m in members]
    base = Path(base) if base is not None else None
    if len(members) < 1:
        raise MergeError("nothing to merge")
    if not 0 < density <= 1:
        raise MergeError(f"density must lie in (0, 1]; got {density}")
    check_compatible(members + ([base] if base is not None and entry.task_vectors else []))
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    aligned_dir = out_dir.with_name(out_dir.name + ".aligned")
    shutil.rmtree(aligned_dir, ignore_errors=True)
    alignment = None
    if entry.aligned:  # weight matching first: every member onto the first one's units
        to_merge, alignment = align_checkpoints(members, aligned_dir)
    else:
        to_merge = members
    cfg = mergekit_config(method, to_merge, base, density, dtype)
    opts = {"device": "cpu", "random_seed": seed, "copy_tokenizer": False, "lazy_unpickle": True,
            "write_model_card": False, "safe_serialization": True, "quiet": True, **(options or {})}
    try:
        run_merge(MergeConfiguration.model_validate(cfg), str(tmp), options=MergeOptions(**opts))
        _single_file(tmp)
        merged = load_file(tmp / WEIGHTS)
        bad = [k for k, v in merged.items() if not torch.isfinite(v).all()]
        if bad:
            raise MergeError(f"{method} merge of {', '.join(map(str, members))} has NaN or inf in {', '.join(bad[:5])}")
        for name in TOKENIZER_FILES:  # one shared tokenizer for the whole study
            if (members[0] / name).exists():
                shutil.copyfile(members[0] / name, tmp / name)
        record = {"method": method, "members": [str(m) for m in members],
                  "base": str(base) if entry.task_vectors else None,
                  "density": density if entry.sparsified else None, "seed": seed, "dtype": dtype,
                  # DARE's drops come from the device's generator: the same seed on another device
                  # gives other drops, so the device is part of what reproduces a merge.
                  "device": opts["device"],
                  "mergekit": metadata.version("mergekit"), "mergekit_config": cfg}
        if alignment is not None:
            record["alignment"] = alignment
        (tmp / "merge.json").write_text(json.dumps(record, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed merge leaves nothing behind
        raise
    finally:
        shutil.rmtree(aligned_dir, ignore_errors=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return record


def merge_and_evaluate(method: str, members: list[Path], base: Path, out_dir: Path, model: str, step: int,
                       tasks: list[str], tasks_dir: Path, *, scores: str | Path, samples: str | Path, density: float,
                       seed: int | None, dtype: str, batch_size: int, eval_seed: int, keep_weights: bool,
                       device: str = "cpu", backend: str = "hf") -> dict:
    """One merged model: merged into `out_dir` (run), evaluated by lm-eval on `tasks`
    (evaluate.evaluate_to_files), its weights deleted unless kept. Everything random is
    seeded here (mergekit's seed, lm-eval's seeds), so a model made after others in the same
    process is the one a fresh process makes (tests/test_workflow.py)."""
    from . import evaluate  # lm-eval's import (seconds) in the jobs that evaluate, not in every merge

    try:
        record = run(method, members, out_dir, base=base, density=density, seed=seed, dtype=dtype,
                     options={"device": device})
        evaluate.evaluate_to_files(out_dir, model, step, tasks, tasks_dir, batch_size, eval_seed, scores, samples,
                                   backend)
    finally:
        if not keep_weights:  # gigabytes at paper scale, read by nothing but this evaluation
            (Path(out_dir) / WEIGHTS).unlink(missing_ok=True)
    return record


def _single_file(out: Path) -> None:
    """mergekit shards by size; the study's consumers read one model.safetensors."""
    if (out / WEIGHTS).exists():
        return
    shards = sorted(out.glob("model-*.safetensors"))
    if not shards:
        raise MergeError(f"mergekit wrote no weights in {out}")
    merged = {}
    for shard in shards:
        merged.update(load_file(shard))
    save_file(merged, out / WEIGHTS, metadata={"format": "pt"})
    for shard in shards:
        shard.unlink()
    index = out / "model.safetensors.index.json"
    if index.exists():
        index.unlink()


# Checking a merge against a published one --------------------------------------------

def ulp_distance(a, b):
    """Elementwise distance in units in the last place between two tensors of one floating
    dtype (float16, bfloat16, float32): how many representable values lie between them.
    Adjacent values are 1 apart, +0 and -0 are 0 apart."""
    bits = {torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.float32: torch.int32}[a.dtype]
    low = torch.iinfo(bits).min

    def ordered(t):  # sign-magnitude bits onto one integer line, in the order of the values
        i = t.contiguous().view(bits).to(torch.int64)
        return torch.where(i < 0, low - i, i)

    return (ordered(a) - ordered(b)).abs()


def compare_with_published(ours: str | Path, published: str | Path, dtype: str) -> list[dict]:
    """Tensor by tensor, this workflow's merge against a published one, both cast to the
    merge's dtype: elements, elements that differ, largest absolute difference and largest
    distance in ulps. Tied embeddings may be stored once on either side."""
    dt = getattr(torch, dtype)
    a, b = load_file(Path(ours) / WEIGHTS), load_file(Path(published) / WEIGHTS)
    for side in (a, b):
        if "lm_head.weight" not in side and "model.embed_tokens.weight" in side:
            side["lm_head.weight"] = side["model.embed_tokens.weight"]
    if a.keys() != b.keys():
        diff = sorted(set(a) ^ set(b))
        raise MergeError(f"{published} holds other tensors than the merge {ours}: {', '.join(diff[:5])}")
    rows = []
    for name in sorted(a):
        x, y = a[name].to(dt), b[name].to(dt)
        if x.shape != y.shape:
            raise MergeError(f"{name}: shape {tuple(x.shape)} in {ours}, {tuple(y.shape)} in {published}")
        ulps = ulp_distance(x, y)
        rows.append({"tensor": name, "elements": x.numel(), "differing": int((ulps > 0).sum()),
                     "max_abs_diff": float((x.float() - y.float()).abs().max()), "max_ulp": int(ulps.max())})
    return rows
