"""CKA's inputs: each layer's mean-pooled hidden states of a model over FLORES sentences,
cached as .npy by the job that evaluates the expert (`evaluate_expert`: one model load).
Kept apart from `similarity`, whose jobs read the cached arrays and need no model classes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from .benchfiles import load
from .model import device as model_device
from .model import load_model
from .tokenizer import load as load_tokenizer

log = logging.getLogger("mergelimits.activations")


def encode(tok, texts: list[str], bos: bool, max_length: int | None) -> dict[str, torch.Tensor]:
    """Right-padded ids and mask; BOS first when `bos` (as the Gemma tokenizer's default, which
    the authors' model_similarity.py used), at most `max_length` tokens with it (theirs: 128)."""
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    if bos:
        if tok.bos_token_id is None:
            raise ValueError("analysis.bos: the tokenizer has no BOS token")
        ids = [[tok.bos_token_id, *x] for x in ids]
    if max_length:
        ids = [x[:max_length] for x in ids]
    width = max(len(x) for x in ids)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return {"input_ids": torch.tensor([x + [pad] * (width - len(x)) for x in ids]),
            "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])}


def activations(model_dir: str | Path, texts: list[str], batch_size: int = 32, *, bos: bool,
                max_length: int | None = None) -> np.ndarray:
    """Mean-pooled hidden state of every transformer layer (embedding output skipped) over
    every token the model reads, BOS included when `bos`: an array layers × sentences ×
    hidden, float32. `bos` is `analysis.bos`, a choice of the protocol: no default stands in
    for it."""
    device = model_device()
    m = load_model(model_dir).eval().to(device)
    tok = load_tokenizer(model_dir)
    out = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        enc = {k: v.to(device) for k, v in encode(tok, batch, bos, max_length).items()}
        with torch.no_grad():
            hidden = m(**enc, output_hidden_states=True).hidden_states[1:]  # skip the embeddings
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
        pooled = torch.stack([(h * mask).sum(1) / mask.sum(1) for h in hidden])  # layers × batch × hidden
        out.append(pooled.float().cpu().numpy())
    return np.concatenate(out, axis=1)


def _flores_texts(path) -> list[str]:
    return list(load("flores", path).sort_values("id")["text"])


def cache_activations(model_dir: str | Path, texts: dict[str, str | Path], out: dict[str, str | Path],
                      batch_size: int, bos: bool, max_length: int | None = None) -> None:
    """Each variant's FLORES devtest (English, own language) through one model, cached as .npy."""
    for variant, texts_path in texts.items():
        t0 = time.perf_counter()
        acts = activations(model_dir, _flores_texts(texts_path), batch_size, bos=bos, max_length=max_length)
        np.save(out[variant], acts)
        log.info(
            "%s, %s: %d layers × %d sentences × %d in %.1f s", model_dir, variant, *acts.shape,
            time.perf_counter() - t0)
