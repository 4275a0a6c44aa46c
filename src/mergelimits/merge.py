"""Merges with mergekit (its Python API): linear, TIES, DARE-TIES, task arithmetic.

TIES, DARE-TIES and task arithmetic take task vectors against the shared initialisation
(`base`). DARE drops parameters at random: mergekit gets the configured seed, and the
seed is written with the merge. Nothing here reimplements a merge method.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from safetensors import safe_open

from .modelid import WEIGHTS

TASK_VECTOR_METHODS = ("ties", "dare_ties", "task_arithmetic")
SPARSIFIED = ("ties", "dare_ties")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class MergeError(ValueError):
    pass


def tensor_shapes(model_dir: Path) -> dict[str, tuple[int, ...]]:
    path = Path(model_dir) / WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"checkpoint weights missing: {path}")
    try:
        with safe_open(path, "pt") as fh:
            return {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except Exception as err:
        raise MergeError(f"corrupt checkpoint {path}: {err}") from err


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
    if method in TASK_VECTOR_METHODS and base is None:
        raise MergeError(f"{method} needs a base model (the shared initialisation)")
    params = {"weight": 1.0}
    if method in SPARSIFIED:
        params["density"] = density
    cfg = {
        "merge_method": method,
        "models": [{"model": str(m), "parameters": dict(params)} for m in members],
        "dtype": dtype,
    }
    if method in TASK_VECTOR_METHODS:
        cfg["base_model"] = str(base)
    if method in ("linear", "ties", "dare_ties"):
        cfg["parameters"] = {"normalize": True}  # equal weights summing to one
    return cfg


def run(method: str, members: list[str | Path], out_dir: str | Path, *, base: str | Path | None = None,
        density: float = 0.75, seed: int | None = None, dtype: str = "float32",
        options: dict | None = None) -> dict:
    """Merge `members` into `out_dir` and write `merge.json` beside the weights."""
    import mergekit
    import torch
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge
    from safetensors.torch import load_file

    members = [Path(m) for m in members]
    base = Path(base) if base is not None else None
    if len(members) < 1:
        raise MergeError("nothing to merge")
    if not 0 < density <= 1:
        raise MergeError(f"density must lie in (0, 1]; got {density}")
    check_compatible(members + ([base] if base is not None and method in TASK_VECTOR_METHODS else []))
    cfg = mergekit_config(method, members, base, density, dtype)
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
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
                  "base": str(base) if method in TASK_VECTOR_METHODS else None,
                  "density": density if method in SPARSIFIED else None, "seed": seed, "dtype": dtype,
                  # DARE's drops come from the device's generator: the same seed on another device
                  # gives other drops, so the device is part of what reproduces a merge.
                  "device": opts["device"],
                  "mergekit": getattr(mergekit, "__version__", "0.1.5"), "mergekit_config": cfg}
        (tmp / "merge.json").write_text(json.dumps(record, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed merge leaves nothing behind
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return record


def _single_file(out: Path) -> None:
    """mergekit shards by size; the study's consumers read one model.safetensors."""
    if (out / WEIGHTS).exists():
        return
    from safetensors.torch import load_file, save_file

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


def successive_order(langs: list[str], seed: int) -> list[str]:
    """The order in which languages join the successive merges (Figure 2), from the seed."""
    import random

    return random.Random(seed).sample(list(langs), len(langs))


def members(model_id: str, langs: list[str], seed: int) -> list[str]:
    """The monolingual languages a merged model id stands for, in merge order."""
    from . import modelid

    mid = modelid.parse(model_id)
    if mid.kind != "merge":
        raise ValueError(f"{model_id} is not a merged model")
    if mid.family == "all":
        if mid.n != len(langs):
            raise ValueError(f"{model_id} merges {mid.n} models but {len(langs)} languages are configured")
        return list(langs)
    if mid.family == "pair":
        return list(mid.pair)
    if not 2 <= mid.n <= len(langs):
        raise ValueError(f"{model_id}: successive merges take 2..{len(langs)} models")
    return successive_order(langs, seed)[: mid.n]


def run_job(input, output, params) -> dict:
    """The merge_models rule: members and base are checkpoint files, output the weights."""
    import logging

    from . import warm

    warm.mergekit()
    from .model import device as model_device

    members = [Path(m).parent for m in input.members]
    out_dir = Path(output.weights).parent
    device = model_device()  # on LUMI a merge shares a GCD job with its evaluation
    record = run(params.method, members, out_dir, base=Path(input.base).parent, density=params.density,
                 seed=params.seed, options={"device": device})
    logging.getLogger("mergelimits.merge").info("%s of %d models -> %s on %s (seed %s, density %s)", params.method,
                                                len(members), out_dir, device, record["seed"], record["density"])
    return record
