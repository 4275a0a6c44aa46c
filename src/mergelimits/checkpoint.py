"""A checkpoint's weights file read without loading the model: each tensor's shape and the
parameter count from the safetensors header, and the file's digest. Kept apart from `model`
(torch and the transformers model classes, seconds of imports) for the jobs that need only this.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from safetensors import safe_open

from .modelid import WEIGHTS


def weights_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tensor_shapes(model_dir: str | Path) -> dict[str, tuple[int, ...]]:
    """Each tensor's shape in a checkpoint's weights, from the header alone."""
    path = Path(model_dir) / WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"checkpoint weights missing: {path}")
    try:
        with safe_open(path, "pt") as fh:
            return {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except Exception as err:
        raise ValueError(f"corrupt checkpoint {path}: {err}") from err


def param_count(model_dir: str | Path) -> int:
    """Parameters stored in a checkpoint's weights (tied embeddings once), from the header."""
    return sum(math.prod(shape) for shape in tensor_shapes(model_dir).values())
